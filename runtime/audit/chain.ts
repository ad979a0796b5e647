// The audit log's hash chain: each entry's hash is sha256(prev_hash ‖ canonical JSON of the
// entry), the first entry's prev_hash is GENESIS. The entry includes its own sequence number,
// so renumbering rows changes hashes too.

import { hash } from "node:crypto";

export const GENESIS = "0".repeat(64);

export interface ChainEntry {
  seq: number;
  /** ISO 8601, when the gateway accepted the record */
  time: string;
  type: string;
  session?: string;
  data: Record<string, unknown>;
}

export function chainHash(prevHash: string, text: string): string {
  return hash("sha256", prevHash + text, "hex");
}

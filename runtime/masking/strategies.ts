import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import type { MaskStrategy } from "../bundle/format.js";
import { MaskingError } from "./errors.js";

export const REDACTED_BYTES: Buffer = Buffer.from("[REDACTED]", "ascii");

const HASH_PREFIX = "hash:";
const HASH_HEX_CHARS = 16;
const MIN_HASH_KEY_BYTES = 32;

/** How much a strategy withholds: `null` > `redact` > `hash` > `partial` (DESIGN.md §2). */
export function strength(s: MaskStrategy): number {
  switch (s.kind) {
    case "partial": return 0;
    case "hash": return 1;
    case "redact": return 2;
    case "null": return 3;
  }
}

/** Rejects a strategy the masker cannot apply (fail closed at plan time, not per row). */
export function checkStrategy(s: MaskStrategy): void {
  if (s.kind === "partial" && !(Number.isSafeInteger(s.keep) && (s.keep as number) >= 0)) {
    throw new MaskingError(`partial mask needs a non-negative integer "keep", got ${String(s.keep)}`);
  }
}

/**
 * `hash:` + the first 16 hex digits of HMAC-SHA256 under the gateway's key: equal values
 * give equal output (joins and group-bys still work), and without the key no dictionary of
 * precomputed hashes can reverse it.
 */
export class Hasher {
  private readonly key: KeyObject;

  constructor(key: Uint8Array) {
    if (key.length < MIN_HASH_KEY_BYTES) {
      throw new MaskingError(`the masking hash key must be at least ${MIN_HASH_KEY_BYTES} bytes, got ${key.length}`);
    }
    this.key = createSecretKey(key);
  }

  hash(value: Uint8Array): string {
    return HASH_PREFIX + createHmac("sha256", this.key).update(value).digest("hex").slice(0, HASH_HEX_CHARS);
  }
}

// What the gateway records (DESIGN.md §5 "Audit"): one record when a session starts, one per
// statement or command, one when it ends. A sink accepts records in order; the promise
// settles once the record is accepted (buffered or stored) and rejects when the sink can no
// longer record, so the caller can fail closed.

import type { Effect } from "../bundle/format.js";
import type { Identity } from "../facts/types.js";

export type Protocol = "postgres" | "ssh" | "kubernetes";

export interface SessionStartedRecord {
  session: string;
  identity: Identity;
  connection: string;
  protocol: Protocol;
  /** client address, `host:port` */
  client?: string;
}

export interface StatementRecord {
  session: string;
  /** who and where, repeated so each line stands alone in an export */
  identity: Pick<Identity, "issuer" | "subject">;
  connection: string;
  /**
   * the statement or command as received, or its first 64 KiB of UTF-8 when longer — 4 KiB for
   * one the gateway refused to run (bounds.ts)
   */
  text: string;
  /** only when `text` was cut: the whole text's length in UTF-8 bytes */
  textBytes?: number;
  /** only when `text` was cut: the hex SHA-256 of the whole text */
  textSha256?: string;
  decision: Effect;
  /** ids of the rules behind the decision */
  rules: string[];
  /** the decision's reason, its first 4 KiB (it can quote the statement) */
  reason?: string;
  rows?: number;
  bytes?: number;
  durationMs?: number;
  /** the upstream's or the gateway's error, its first 4 KiB */
  error?: string;
  /** review: the approval request that released (or refused) the statement */
  approval?: string;
  /** what the client received (masked), up to the gateway's capture cap */
  output?: StatementOutput;
}

/** A statement's result rows as the client saw them: text values, binary ones as `\\x` hex. */
export interface StatementOutput {
  columns: string[];
  rows: (string | null)[][];
  /** more rows or bytes were sent than captured */
  truncated: boolean;
}

export interface SessionEndedRecord {
  session: string;
  rows: number;
  bytes: number;
  durationMs: number;
  error?: string;
}

export interface AuditSink {
  sessionStarted(record: SessionStartedRecord): Promise<void>;
  statement(record: StatementRecord): Promise<void>;
  sessionEnded(record: SessionEndedRecord): Promise<void>;
  /**
   * Why the sink should take no new sessions now although it still records — records wait beyond
   * its budget (store-log.ts) — if so; absent or undefined: it keeps up.
   */
  congestion?(): Error | undefined;
  /**
   * Calls `listener` each time the records waiting pass the sink's hard limit: the open sessions
   * should end, so that only what they have in flight still comes (the sink takes it all).
   * Returns the unsubscribe.
   */
  onOverload?(listener: () => void): () => void;
  /**
   * While records wait past the sink's high-water mark, a promise that resolves once they are back
   * under its low-water mark: sessions stop reading their clients until then, so no client outruns
   * the writer. Absent or undefined: it keeps up (a sink that writes synchronously always does).
   */
  backpressure?(): Promise<void> | undefined;
  /** writes out everything accepted, then releases the sink */
  close(): Promise<void>;
}

/** A record as written: its kind and the time it was accepted, then its fields. */
export type AuditEntry =
  | ({ type: "session_started"; time: string } & SessionStartedRecord)
  | ({ type: "statement"; time: string } & StatementRecord)
  | ({ type: "session_ended"; time: string } & SessionEndedRecord);

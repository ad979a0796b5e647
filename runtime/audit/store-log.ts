// The audit log in the store (DESIGN.md §5 "Audit"): every record is appended to one hash
// chain. Accepting a record costs the caller a few array pushes: records gather into a batch,
// whose entries' data this thread writes as canonical JSON in one pass when the batch is due (a
// batch of strings is cheap to hand over), and a BatchWriter appends it in one transaction — on
// this thread for the embedded store, in a worker thread with its own connection for PostgreSQL
// (writer-thread.ts). A record's promise resolves once its batch is committed; after a failed
// batch every later record is refused, so the gateway fails closed instead of losing records
// silently.
//
// What waits to be written is bounded. Each record is counted at its size — the characters of its
// text, messages and captured output (which audit-port.ts and the capture keep bounded), a few
// additions — and a batch holds at most 1 Mi of them, so long statements go out in several
// transactions of bounded size. Past half the budget's characters (16 Mi, the high-water mark)
// backpressure() tells the sessions to stop reading their clients until the writer is back under a
// quarter (8 Mi, the low-water mark), so no client can send statements faster than they are
// recorded. Past the backlog budget — 32 Mi characters waiting, or the oldest record waiting 30 s
// (a stuck or far-behind writer) — the log is congested: congestion() says so and the gateway
// refuses new sessions, while records are still taken and written; it recovers once the writer is
// back under half of both. Past 128 Mi characters (the hard limit) the log is overloaded: every
// open session is told to end (onOverload), so only what they had in flight is still to come —
// a bounded amount (runtime/postgres/session.ts bounds the messages a client has unanswered) —
// and every record is still taken and written; nothing is lost, and once the writer is back
// under half the budget new sessions are taken again. Only a failed batch stops the log for good.

import type { Store } from "../store/types.js";
import { appendBatch, emptyBatch, RECORD_TYPES, type EntryBatch } from "./append.js";
import { writeData } from "./entry-json.js";
import type { AuditSink, SessionEndedRecord, SessionStartedRecord, StatementOutput, StatementRecord } from "./sink.js";

const MAX_BATCH = 2048;
/**
 * A batch's records' size (characters, as counted by the sizes below), at most: its JSON is at
 * most six times that (a control character is written `\u0001`), its COPY text seven.
 */
const MAX_BATCH_CHARS = 1024 * 1024;
/**
 * How long records gather before a batch is written. Every transaction has a fixed cost (on the
 * embedded store several milliseconds of this thread; on PostgreSQL round trips of the writer
 * thread and work for the server): one per event-loop turn would throttle the data path.
 */
const BATCH_INTERVAL_MS = 50;

/** The log is behind its budget; it still records, and recovers once the writer catches up. */
export class AuditBacklogError extends Error {}

/** How far the writer may fall behind (see the head of this file). */
export interface BacklogBudget {
  /** characters of records waiting past which the log is congested; sessions stop reading their clients past half of it */
  maxChars: number;
  /** how long the oldest record may wait before the log is congested */
  maxAgeMs: number;
  /** characters of records waiting past which the log is overloaded: open sessions end (no new records come but theirs) */
  overloadChars: number;
}

export const DEFAULT_BACKLOG_BUDGET: BacklogBudget = { maxChars: 32 * 1024 * 1024, maxAgeMs: 30_000, overloadChars: 128 * 1024 * 1024 };

/** What waits to be written: accepted records not yet committed. */
export interface Backlog {
  records: number;
  /** their size, in characters as counted for the budget */
  chars: number;
  /** how long the oldest has waited, in ms; 0 with none */
  oldestMs: number;
}

export interface AuditEvent {
  type: string;
  session?: string;
  data: Record<string, unknown>;
}

/** Appends batches to the chain, one at a time. */
export interface BatchWriter {
  /** where the log lives, without credentials: for errors */
  readonly location: string;
  write(batch: EntryBatch): Promise<void>;
  /** called once every batch is written */
  close(): Promise<void>;
}

/** the embedded store: batches are appended on this thread (PGlite cannot be shared with a worker) */
export function inProcessWriter(store: Store): BatchWriter {
  return {
    location: store.location,
    write: (batch) => store.transaction((tx) => appendBatch(tx, batch)),
    close: async () => undefined,
  };
}

/** Records written in one transaction; they all settle together, so they share one promise. */
interface Pending {
  /** its `data` is written from `bodies` when the batch is due */
  batch: EntryBatch;
  /** a sink record (RECORD_TYPES) itself, or an event's data */
  bodies: object[];
  /** the records' size, in characters */
  chars: number;
  settled: Promise<void>;
  settle(error?: Error): void;
}

function openPending(): Pending {
  let settle!: (error?: Error) => void;
  const settled = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve());
  });
  return { batch: emptyBatch(), bodies: [], chars: 0, settled, settle };
}

function full(pending: Pending): boolean {
  return pending.batch.types.length >= MAX_BATCH || pending.chars >= MAX_BATCH_CHARS;
}

/** An AuditSink on the store, plus the gateway's other events (approvals, bundle changes, API calls). */
export class StoreAuditLog implements AuditSink {
  /** waiting to be written, oldest first; only the last one still takes records */
  private pending: Pending[] = [];
  /** the batch the writer has, until it is committed or failed */
  private inWriter: Pending | undefined;
  private writing: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private failure: Error | undefined;
  /** past the hard limit (overloadChars), until the backlog is back under half the size budget */
  private overloaded = false;
  private readonly overloadListeners = new Set<() => void>();
  private closed = false;
  private backlogRecords = 0;
  private backlogChars = 0;
  private congested: Error | undefined;
  /** set while the backlog is past its high-water mark; resolved once it is back under the low-water mark */
  private pressure: { drained: Promise<void>; resolve(): void } | undefined;

  constructor(
    private readonly writer: BatchWriter,
    private readonly budget: BacklogBudget = DEFAULT_BACKLOG_BUDGET,
  ) {}

  sessionStarted(record: SessionStartedRecord): Promise<void> {
    // claims come from a verified token of at most 64 KiB: counted as a typical one
    return this.push("session_started", record.session, record, RECORD_CHARS + 1024);
  }

  statement(record: StatementRecord): Promise<void> {
    let chars = RECORD_CHARS + record.text.length + (record.reason?.length ?? 0) + (record.error?.length ?? 0);
    if (record.output !== undefined) chars += outputChars(record.output);
    return this.push("statement", record.session, record, chars);
  }

  sessionEnded(record: SessionEndedRecord): Promise<void> {
    return this.push("session_ended", record.session, record, RECORD_CHARS + (record.error?.length ?? 0));
  }

  append(event: AuditEvent): Promise<void> {
    if (RECORD_TYPES.has(event.type)) return Promise.reject(new Error(`${event.type} is recorded through the sink's own method, not append()`));
    return this.push(event.type, event.session, event.data, RECORD_CHARS + stringChars(event.data));
  }

  /** the error that stopped the log, if any: a failed batch */
  failed(): Error | undefined {
    return this.failure;
  }

  /** calls `listener` each time the backlog passes the hard limit: the sessions making records should end */
  onOverload(listener: () => void): () => void {
    this.overloadListeners.add(listener);
    return () => void this.overloadListeners.delete(listener);
  }

  /** what waits to be written */
  backlog(now = Date.now()): Backlog {
    const oldest = (this.inWriter ?? this.pending[0])?.batch.times[0];
    return { records: this.backlogRecords, chars: this.backlogChars, oldestMs: oldest === undefined ? 0 : Math.max(0, now - oldest) };
  }

  /** the log is behind its budget: new sessions should wait until it catches up (it still records) */
  congestion(now = Date.now()): Error | undefined {
    const { chars, oldestMs } = this.backlog(now);
    const { maxChars, maxAgeMs } = this.budget;
    if (this.congested === undefined) {
      if (chars > maxChars || oldestMs > maxAgeMs) {
        this.congested = new AuditBacklogError(
          `the audit log in store ${this.writer.location} is behind: ${mib(chars)} MiB of records wait to be written, the oldest for ${(oldestMs / 1000).toFixed(1)} s ` +
          `(budget ${mib(maxChars)} MiB, ${maxAgeMs / 1000} s)`,
        );
      }
    } else if (chars <= maxChars / 2 && oldestMs <= maxAgeMs / 2) {
      this.congested = undefined;
    }
    return this.congested;
  }

  /** past the high-water mark (half the size budget): a promise that resolves once the backlog is under the low-water mark (a quarter) */
  backpressure(): Promise<void> | undefined {
    if (this.pressure === undefined && this.backlogChars > this.budget.maxChars / 2) {
      let resolve!: () => void;
      const drained = new Promise<void>((r) => (resolve = r));
      this.pressure = { drained, resolve };
    }
    return this.pressure?.drained;
  }

  /** waits for everything accepted, then releases the writer; the store itself is closed by its owner */
  async close(): Promise<void> {
    this.closed = true;
    this.closing ??= this.finish();
    await this.closing;
    const failed = this.failed();
    if (failed) throw failed;
  }

  private async finish(): Promise<void> {
    await this.writing;
    await this.writer.close().catch((err: unknown) => {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
    });
  }

  /** the record is written as it is when its batch is written: callers hand over fresh objects */
  private push(type: string, session: string | undefined, body: object, chars: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error("the audit log is closed"));
    if (!this.overloaded && this.backlogChars + chars > this.budget.overloadChars) {
      this.overloaded = true;
      // after the caller's turn: ending a session from inside its own record would cut its work short
      const listeners = [...this.overloadListeners];
      setImmediate(() => {
        for (const listener of listeners) listener();
      });
    }
    let pending = this.pending.at(-1);
    if (pending === undefined || full(pending)) {
      pending = openPending();
      this.pending.push(pending);
    }
    const { batch } = pending;
    batch.types.push(type);
    batch.times.push(Date.now());
    batch.sessions.push(session);
    pending.bodies.push(body);
    pending.chars += chars;
    this.backlogRecords += 1;
    this.backlogChars += chars;
    this.writing ??= this.drain();
    return pending.settled;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      if (!full(this.pending[0]!) && !this.closed) await new Promise((resolve) => setTimeout(resolve, BATCH_INTERVAL_MS));
      const pending = this.pending.shift()!;
      this.inWriter = pending;
      if (this.failure) {
        this.settle(pending, this.failure);
        continue;
      }
      try {
        await this.writer.write(withData(pending));
        this.settle(pending);
      } catch (err) {
        this.failure = new Error(`the audit log in store ${this.writer.location} cannot be written: ${(err as Error).message}`);
        this.settle(pending, this.failure);
      }
    }
    this.writing = undefined;
  }

  private settle(pending: Pending, error?: Error): void {
    this.inWriter = undefined;
    this.backlogRecords -= pending.batch.types.length;
    this.backlogChars -= pending.chars;
    if (this.pressure !== undefined && this.backlogChars <= this.budget.maxChars / 4) {
      this.pressure.resolve();
      this.pressure = undefined;
    }
    if (this.overloaded && this.backlogChars <= this.budget.maxChars / 2) this.overloaded = false;
    pending.settle(error);
  }
}

/** what a record's fields other than its text, messages and output count for: keys, ids, identity, numbers */
const RECORD_CHARS = 256;

/** the captured rows' size: their values, names and separators */
function outputChars(output: StatementOutput): number {
  let chars = 0;
  for (const column of output.columns) chars += column.length + 3;
  for (const row of output.rows) for (const value of row) chars += value === null ? 5 : value.length + 3;
  return chars;
}

/** an event's string fields, one level down (the statement of an approval request is cut like a record's text) */
function stringChars(data: Record<string, unknown>): number {
  let chars = 0;
  for (const key in data) {
    const value = data[key];
    chars += typeof value === "string" ? value.length : 64;
  }
  return chars;
}

function mib(chars: number): string {
  return (chars / (1024 * 1024)).toFixed(1);
}

/**
 * The batch with each entry's data written (a sink record's own `session` goes beside it), in one
 * pass: hot in one loop, the writing costs this thread about half what it costs record by record.
 * A record that has no JSON form fails its batch.
 */
function withData({ batch, bodies }: Pending): EntryBatch {
  for (let i = 0; i < bodies.length; i++) batch.data.push(writeData(bodies[i]!, RECORD_TYPES.has(batch.types[i]!) ? "session" : undefined));
  return batch;
}

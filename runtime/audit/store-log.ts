// The audit log in the store (DESIGN.md §5 "Audit"): every record is appended to one hash
// chain. Accepting a record costs the caller its data's canonical JSON and a few array pushes:
// records gather into a batch that a BatchWriter appends in one transaction — on this thread for
// the embedded store, in a worker thread with its own connection for PostgreSQL
// (writer-thread.ts). A record's promise resolves once its batch is committed; after a failed
// batch every later record is refused, so the gateway fails closed instead of losing records
// silently.

import type { Store } from "../store/types.js";
import { appendBatch, emptyBatch, RECORD_TYPES, type EntryBatch } from "./append.js";
import { writeData } from "./entry-json.js";
import type { AuditSink, SessionEndedRecord, SessionStartedRecord, StatementRecord } from "./sink.js";

const MAX_BATCH = 2048;
/**
 * How long records gather before a batch is written. Every transaction has a fixed cost (on the
 * embedded store several milliseconds of this thread; on PostgreSQL round trips of the writer
 * thread and work for the server): one per event-loop turn would throttle the data path.
 */
const BATCH_INTERVAL_MS = 50;

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
  batch: EntryBatch;
  settled: Promise<void>;
  settle(error?: Error): void;
}

function openPending(): Pending {
  let settle!: (error?: Error) => void;
  const settled = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve());
  });
  return { batch: emptyBatch(), settled, settle };
}

/** An AuditSink on the store, plus the gateway's other events (approvals, bundle changes, API calls). */
export class StoreAuditLog implements AuditSink {
  /** waiting to be written, oldest first; only the last one still takes records */
  private pending: Pending[] = [];
  private writing: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;

  constructor(private readonly writer: BatchWriter) {}

  sessionStarted(record: SessionStartedRecord): Promise<void> {
    return this.push("session_started", record.session, record, "session");
  }

  statement(record: StatementRecord): Promise<void> {
    return this.push("statement", record.session, record, "session");
  }

  sessionEnded(record: SessionEndedRecord): Promise<void> {
    return this.push("session_ended", record.session, record, "session");
  }

  append(event: AuditEvent): Promise<void> {
    if (RECORD_TYPES.has(event.type)) return Promise.reject(new Error(`${event.type} is recorded through the sink's own method, not append()`));
    return this.push(event.type, event.session, event.data, undefined);
  }

  /** the error that stopped the log, if any */
  failed(): Error | undefined {
    return this.failure;
  }

  /** waits for everything accepted, then releases the writer; the store itself is closed by its owner */
  async close(): Promise<void> {
    this.closed = true;
    this.closing ??= this.finish();
    await this.closing;
    if (this.failure) throw this.failure;
  }

  private async finish(): Promise<void> {
    await this.writing;
    await this.writer.close().catch((err: unknown) => {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
    });
  }

  /**
   * The entry's data is written now, as the record is when accepted (a record's own `session`,
   * `omit`, goes beside it): a batch crosses to the writer thread as strings, and a record that
   * has no JSON form fails the log here, as a failed batch does.
   */
  private push(type: string, session: string | undefined, body: object, omit: "session" | undefined): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error("the audit log is closed"));
    let data: string;
    try {
      data = writeData(body, omit);
    } catch (err) {
      this.failure = new Error(`the audit log in store ${this.writer.location} cannot be written: ${(err as Error).message}`);
      return Promise.reject(this.failure);
    }
    let pending = this.pending.at(-1);
    if (pending === undefined || pending.batch.types.length >= MAX_BATCH) {
      pending = openPending();
      this.pending.push(pending);
    }
    const { batch } = pending;
    batch.types.push(type);
    batch.times.push(Date.now());
    batch.sessions.push(session);
    batch.data.push(data);
    this.writing ??= this.drain();
    return pending.settled;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      if (this.pending[0]!.batch.types.length < MAX_BATCH && !this.closed) await new Promise((resolve) => setTimeout(resolve, BATCH_INTERVAL_MS));
      const pending = this.pending.shift()!;
      if (this.failure) {
        pending.settle(this.failure);
        continue;
      }
      try {
        await this.writer.write(pending.batch);
        pending.settle();
      } catch (err) {
        this.failure = new Error(`the audit log in store ${this.writer.location} cannot be written: ${(err as Error).message}`);
        pending.settle(this.failure);
      }
    }
    this.writing = undefined;
  }
}

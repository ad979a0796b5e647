// The audit log in the store (DESIGN.md §5 "Audit"): every record is appended to one hash
// chain. Accepting a record costs the caller a few array pushes: records gather into a batch,
// whose entries' data this thread writes as canonical JSON in one pass when the batch is due (a
// batch of strings is cheap to hand over), and a BatchWriter appends it in one transaction — on
// this thread for the embedded store, in a worker thread with its own connection for PostgreSQL
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
  /** its `data` is written from `bodies` when the batch is due */
  batch: EntryBatch;
  /** a sink record (RECORD_TYPES) itself, or an event's data */
  bodies: object[];
  settled: Promise<void>;
  settle(error?: Error): void;
}

function openPending(): Pending {
  let settle!: (error?: Error) => void;
  const settled = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve());
  });
  return { batch: emptyBatch(), bodies: [], settled, settle };
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
    return this.push("session_started", record.session, record);
  }

  statement(record: StatementRecord): Promise<void> {
    return this.push("statement", record.session, record);
  }

  sessionEnded(record: SessionEndedRecord): Promise<void> {
    return this.push("session_ended", record.session, record);
  }

  append(event: AuditEvent): Promise<void> {
    if (RECORD_TYPES.has(event.type)) return Promise.reject(new Error(`${event.type} is recorded through the sink's own method, not append()`));
    return this.push(event.type, event.session, event.data);
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

  /** the record is written as it is when its batch is written: callers hand over fresh objects */
  private push(type: string, session: string | undefined, body: object): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error("the audit log is closed"));
    let pending = this.pending.at(-1);
    if (pending === undefined || pending.batch.types.length >= MAX_BATCH) {
      pending = openPending();
      this.pending.push(pending);
    }
    const { batch } = pending;
    batch.types.push(type);
    batch.times.push(Date.now());
    batch.sessions.push(session);
    pending.bodies.push(body);
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
        await this.writer.write(withData(pending));
        pending.settle();
      } catch (err) {
        this.failure = new Error(`the audit log in store ${this.writer.location} cannot be written: ${(err as Error).message}`);
        pending.settle(this.failure);
      }
    }
    this.writing = undefined;
  }
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

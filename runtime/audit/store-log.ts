// The audit log in the store (DESIGN.md §5 "Audit"): every record is appended to one hash
// chain. Records are queued and appended in batches, one transaction per batch, under an
// advisory lock so replicas sharing a PostgreSQL store keep the chain linear. A record's promise
// resolves once its batch is committed; after a failed batch every later record is refused,
// so the gateway fails closed instead of losing records silently.

import type { Store, Queryable } from "../store/types.js";
import { chainHash, entryText, GENESIS, type ChainEntry } from "./chain.js";
import type { AuditSink, SessionEndedRecord, SessionStartedRecord, StatementRecord } from "./sink.js";

/** arbitrary constant: the advisory lock every hoopgate audit writer takes */
const APPEND_LOCK = 7_320_114_002;
const MAX_BATCH = 256;

export interface AuditEvent {
  type: string;
  session?: string;
  data: Record<string, unknown>;
}

interface Queued {
  event: AuditEvent;
  time: Date;
  done(error?: Error): void;
}

/** An AuditSink on the store, plus the gateway's other events (approvals, bundle changes, API calls). */
export class StoreAuditLog implements AuditSink {
  private queue: Queued[] = [];
  private writing: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;

  constructor(private readonly store: Store) {}

  sessionStarted(record: SessionStartedRecord): Promise<void> {
    const { session, ...data } = record;
    return this.append({ type: "session_started", session, data: { ...data } });
  }

  statement(record: StatementRecord): Promise<void> {
    const { session, ...data } = record;
    return this.append({ type: "statement", session, data: { ...data } });
  }

  sessionEnded(record: SessionEndedRecord): Promise<void> {
    const { session, ...data } = record;
    return this.append({ type: "session_ended", session, data: { ...data } });
  }

  append(event: AuditEvent): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error("the audit log is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ event, time: new Date(), done: (error) => (error ? reject(error) : resolve()) });
      this.writing ??= this.drain();
    });
  }

  /** the error that stopped the log, if any */
  failed(): Error | undefined {
    return this.failure;
  }

  /** waits for everything accepted; the store itself is closed by its owner */
  async close(): Promise<void> {
    this.closed = true;
    await this.writing;
    if (this.failure) throw this.failure;
  }

  private async drain(): Promise<void> {
    // let records arriving in the same tick join the batch
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      if (this.failure) {
        for (const item of batch) item.done(this.failure);
        continue;
      }
      try {
        await this.store.transaction((tx) => appendBatch(tx, batch));
        for (const item of batch) item.done();
      } catch (err) {
        this.failure = new Error(`the audit log in store ${this.store.location} cannot be written: ${(err as Error).message}`);
        for (const item of batch) item.done(this.failure);
      }
    }
    this.writing = undefined;
  }
}

async function appendBatch(tx: Queryable, batch: Queued[]): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock($1)`, [APPEND_LOCK]);
  const [head] = await tx.query<{ seq: unknown; hash: string }>(`select seq, hash from audit_head`);
  let seq = head === undefined ? 0 : Number(head.seq);
  let prev = head?.hash ?? GENESIS;
  for (const { event, time } of batch) {
    seq += 1;
    const entry: ChainEntry = { seq, time: time.toISOString(), type: event.type, data: event.data };
    if (event.session !== undefined) entry.session = event.session;
    const text = entryText(entry);
    const hash = chainHash(prev, text);
    await tx.query(
      `insert into audit_log (seq, time, type, session_id, entry, prev_hash, hash) values ($1, $2, $3, $4, $5, $6, $7)`,
      [seq, time, event.type, event.session ?? null, text, prev, hash],
    );
    await project(tx, event, time);
    prev = hash;
  }
  await tx.query(
    `insert into audit_head (id, seq, hash) values (true, $1, $2) on conflict (id) do update set seq = excluded.seq, hash = excluded.hash`,
    [seq, prev],
  );
}

/** the sessions table is a queryable projection of the chained entries */
async function project(tx: Queryable, event: AuditEvent, time: Date): Promise<void> {
  const d = event.data;
  switch (event.type) {
    case "session_started": {
      const identity = d.identity as { issuer: string; subject: string };
      await tx.query(
        `insert into sessions (id, protocol, issuer, subject, connection, client, started_at) values ($1, $2, $3, $4, $5, $6, $7) on conflict (id) do nothing`,
        [event.session, d.protocol, identity.issuer, identity.subject, d.connection, d.client ?? null, time],
      );
      return;
    }
    case "statement":
      await tx.query(`update sessions set statements = statements + 1 where id = $1`, [event.session]);
      return;
    case "session_ended":
      await tx.query(`update sessions set ended_at = $2, rows_out = $3, bytes_out = $4, error = $5 where id = $1`, [
        event.session, time, d.rows ?? 0, d.bytes ?? 0, d.error ?? null,
      ]);
      return;
    default:
      return;
  }
}

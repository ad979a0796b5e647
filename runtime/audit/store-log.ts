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
const MAX_BATCH = 2048;
/**
 * How long records gather before a batch is written. Every transaction has a fixed cost (on the
 * embedded store several milliseconds of this thread): one per event-loop turn would throttle
 * the data path to that rate.
 */
const BATCH_INTERVAL_MS = 50;

export interface AuditEvent {
  type: string;
  session?: string;
  data: Record<string, unknown>;
}

interface Queued {
  event: AuditEvent;
  /** ms since the epoch, when the gateway accepted the record */
  time: number;
}

/** Records written in one transaction; they all settle together, so they share one promise. */
interface Batch {
  items: Queued[];
  settled: Promise<void>;
  settle(error?: Error): void;
}

function openBatch(): Batch {
  let settle!: (error?: Error) => void;
  const settled = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve());
  });
  return { items: [], settled, settle };
}

/** An AuditSink on the store, plus the gateway's other events (approvals, bundle changes, API calls). */
export class StoreAuditLog implements AuditSink {
  /** waiting to be written, oldest first; only the last one still takes records */
  private batches: Batch[] = [];
  private writing: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;

  constructor(private readonly store: Store) {}

  sessionStarted(record: SessionStartedRecord): Promise<void> {
    const { session, ...data } = record;
    return this.append({ type: "session_started", session, data });
  }

  statement(record: StatementRecord): Promise<void> {
    const { session, ...data } = record;
    return this.append({ type: "statement", session, data });
  }

  sessionEnded(record: SessionEndedRecord): Promise<void> {
    const { session, ...data } = record;
    return this.append({ type: "session_ended", session, data });
  }

  append(event: AuditEvent): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error("the audit log is closed"));
    let batch = this.batches.at(-1);
    if (batch === undefined || batch.items.length >= MAX_BATCH) {
      batch = openBatch();
      this.batches.push(batch);
    }
    batch.items.push({ event, time: Date.now() });
    this.writing ??= this.drain();
    return batch.settled;
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
    while (this.batches.length > 0) {
      if (this.batches[0]!.items.length < MAX_BATCH && !this.closed) await new Promise((resolve) => setTimeout(resolve, BATCH_INTERVAL_MS));
      const batch = this.batches.shift()!;
      if (this.failure) {
        batch.settle(this.failure);
        continue;
      }
      try {
        await this.store.transaction((tx) => appendBatch(tx, batch.items));
        batch.settle();
      } catch (err) {
        this.failure = new Error(`the audit log in store ${this.store.location} cannot be written: ${(err as Error).message}`);
        batch.settle(this.failure);
      }
    }
    this.writing = undefined;
  }
}

interface AuditRow {
  seq: number;
  time: string;
  type: string;
  session_id: string | null;
  entry: string;
  prev_hash: string;
  hash: string;
}

/** one multi-row INSERT per batch: on the embedded store a statement costs far more than a row */
async function appendBatch(tx: Queryable, batch: Queued[]): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock($1)`, [APPEND_LOCK]);
  const [head] = await tx.query<{ seq: unknown; hash: string }>(`select seq, hash from audit_head`);
  let seq = head === undefined ? 0 : Number(head.seq);
  let prev = head?.hash ?? GENESIS;
  const rows: AuditRow[] = [];
  for (const { event, time } of batch) {
    seq += 1;
    const entry: ChainEntry = { seq, time: new Date(time).toISOString(), type: event.type, data: event.data };
    if (event.session !== undefined) entry.session = event.session;
    const text = entryText(entry);
    const hash = chainHash(prev, text);
    rows.push({ seq, time: entry.time, type: event.type, session_id: event.session ?? null, entry: text, prev_hash: prev, hash });
    prev = hash;
  }
  // one JSON parameter: JSON.stringify is native, where the driver escapes text[] elements in JS
  await tx.query(
    `insert into audit_log (seq, time, type, session_id, entry, prev_hash, hash)
     select seq, time, type, session_id, entry, prev_hash, hash from json_to_recordset($1::json)
       as r(seq bigint, time timestamptz, type text, session_id text, entry text, prev_hash text, hash text)`,
    [JSON.stringify(rows)],
  );
  await project(tx, batch);
  await tx.query(
    `insert into audit_head (id, seq, hash) values (true, $1, $2) on conflict (id) do update set seq = excluded.seq, hash = excluded.hash`,
    [seq, prev],
  );
}

/** the sessions table is a queryable projection of the chained entries */
async function project(tx: Queryable, batch: Queued[]): Promise<void> {
  const started: [string[], unknown[], string[], string[], unknown[], (string | null)[], string[]] = [[], [], [], [], [], [], []];
  const statements = new Map<string, number>();
  const ended: Queued[] = [];
  for (const queued of batch) {
    const { event, time } = queued;
    const d = event.data;
    if (event.session === undefined) continue;
    if (event.type === "session_started") {
      const identity = d.identity as { issuer: string; subject: string };
      const [ids, protocols, issuers, subjects, connections, clients, times] = started;
      ids.push(event.session);
      protocols.push(d.protocol);
      issuers.push(identity.issuer);
      subjects.push(identity.subject);
      connections.push(d.connection);
      clients.push((d.client as string | undefined) ?? null);
      times.push(new Date(time).toISOString());
    } else if (event.type === "statement") {
      statements.set(event.session, (statements.get(event.session) ?? 0) + 1);
    } else if (event.type === "session_ended") {
      ended.push(queued);
    }
  }
  if (started[0].length > 0) {
    await tx.query(
      `insert into sessions (id, protocol, issuer, subject, connection, client, started_at)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
       on conflict (id) do nothing`,
      started,
    );
  }
  if (statements.size > 0) {
    await tx.query(
      `update sessions s set statements = s.statements + c.n from unnest($1::text[], $2::int[]) as c(id, n) where s.id = c.id`,
      [[...statements.keys()], [...statements.values()]],
    );
  }
  for (const { event, time } of ended) {
    const d = event.data;
    await tx.query(`update sessions set ended_at = $2, rows_out = $3, bytes_out = $4, error = $5 where id = $1`, [
      event.session, new Date(time), d.rows ?? 0, d.bytes ?? 0, d.error ?? null,
    ]);
  }
}

// Appending a batch of records to the chain in the store, in one transaction under an advisory
// lock so replicas sharing a PostgreSQL store keep the chain linear. Runs where the batch is
// written: on the gateway's thread for the embedded store, in the writer thread for PostgreSQL.

import type { Queryable } from "../store/types.js";
import { chainHash, GENESIS } from "./chain.js";
import { writeEntry } from "./entry-json.js";

/** arbitrary constant: the advisory lock every hoopgate audit writer takes */
const APPEND_LOCK = 7_320_114_002;

/** The records the sink itself takes; their body is the record, whose `session` the entry carries beside its data. */
export const RECORD_TYPES: ReadonlySet<string> = new Set(["session_started", "statement", "session_ended"]);

/**
 * Records in the order they were accepted, one column per field: a batch crosses to the writer
 * thread as a few arrays of strings and numbers, cheap to copy, rather than an object per record.
 */
export interface EntryBatch {
  types: string[];
  /** ms since the epoch, when the gateway accepted the record */
  times: number[];
  sessions: (string | undefined)[];
  /** the canonical JSON of each entry's data (writeData), written on the gateway's thread when the batch is due */
  data: string[];
}

export function emptyBatch(): EntryBatch {
  return { types: [], times: [], sessions: [], data: [] };
}

const AUDIT_LOG_COLUMNS = "audit_log (seq, time, type, session_id, entry, prev_hash, hash)";

/**
 * A batch in few round trips (each costs the writer and the server about what a dozen rows do):
 * the lock and the head in one script — the head's query runs after the lock is granted, with a
 * snapshot of its own — then the rows in one COPY (per row the server parses far less than from
 * JSON or arrays), then the sessions projection and the new head in one statement.
 */
export async function appendBatch(tx: Queryable, batch: EntryBatch): Promise<void> {
  const [head] = await tx.exec<{ seq: unknown; hash: string }>(`select pg_advisory_xact_lock(${APPEND_LOCK}); select seq, hash from audit_head`);
  let seq = head === undefined ? 0 : Number(head.seq);
  let prev = head?.hash ?? GENESIS;
  const { types, times, sessions, data } = batch;
  let rows = "";
  let lastTime = Number.NaN;
  let iso = "";
  for (let i = 0; i < types.length; i++) {
    seq += 1;
    const type = types[i]!;
    const session = sessions[i];
    if (times[i] !== lastTime) {
      lastTime = times[i]!;
      iso = new Date(lastTime).toISOString();
    }
    const text = writeEntry(seq, iso, type, session, data[i]!);
    const hash = chainHash(prev, text);
    rows += `${seq}\t${iso}\t${copyField(type)}\t${session === undefined ? "\\N" : copyField(session)}\t${copyJson(text)}\t${prev}\t${hash}\n`;
    prev = hash;
  }
  await tx.copyIn(AUDIT_LOG_COLUMNS, rows);
  await project(tx, batch, seq, prev);
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };

/** a field in COPY's text format */
function copyField(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIALS, (c) => COPY_ESCAPES[c]!) : value;
}

/** an entry as a COPY field: its JSON holds no raw control characters, only backslashes to escape */
function copyJson(text: string): string {
  return text.includes("\\") ? text.replaceAll("\\", "\\\\") : text;
}

/** what a batch's statements and end change in a session's row */
interface SessionChange {
  statements: number;
  /** its session_ended record, the last one if several */
  ended?: { at: string; rows: unknown; bytes: unknown; error: unknown };
}

/**
 * The sessions table is a queryable projection of the chained entries. Sessions that start in the
 * batch are inserted first; then one statement counts statements, records ends and moves the
 * chain's head.
 */
async function project(tx: Queryable, batch: EntryBatch, seq: number, hash: string): Promise<void> {
  const started: [string[], string[], string[], string[], string[], (string | null)[], string[]] = [[], [], [], [], [], [], []];
  const changes = new Map<string, SessionChange>();
  const { types, times, sessions, data } = batch;
  for (let i = 0; i < types.length; i++) {
    const session = sessions[i];
    const type = types[i]!;
    if (session === undefined || !RECORD_TYPES.has(type)) continue;
    if (type === "session_started") {
      const d = JSON.parse(data[i]!) as { protocol: string; identity: { issuer: string; subject: string }; connection: string; client?: string };
      const [ids, protocols, issuers, subjects, connections, clients, starts] = started;
      ids.push(session);
      protocols.push(d.protocol);
      issuers.push(d.identity.issuer);
      subjects.push(d.identity.subject);
      connections.push(d.connection);
      clients.push(d.client ?? null);
      starts.push(new Date(times[i]!).toISOString());
      continue;
    }
    let change = changes.get(session);
    if (change === undefined) {
      change = { statements: 0 };
      changes.set(session, change);
    }
    if (type === "statement") {
      change.statements += 1;
    } else {
      const d = JSON.parse(data[i]!) as { rows?: number; bytes?: number; error?: string };
      change.ended = { at: new Date(times[i]!).toISOString(), rows: d.rows ?? 0, bytes: d.bytes ?? 0, error: d.error ?? null };
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
  const ids = [...changes.keys()];
  const list = [...changes.values()];
  await tx.query(
    `with projected as (
       update sessions s set statements = s.statements + c.n,
         ended_at = case when c.ended then c.ended_at else s.ended_at end,
         rows_out = case when c.ended then c.rows_out else s.rows_out end,
         bytes_out = case when c.ended then c.bytes_out else s.bytes_out end,
         error = case when c.ended then c.error else s.error end
       from unnest($1::text[], $2::int[], $3::boolean[], $4::timestamptz[], $5::bigint[], $6::bigint[], $7::text[])
         as c(id, n, ended, ended_at, rows_out, bytes_out, error)
       where s.id = c.id
     )
     insert into audit_head (id, seq, hash) values (true, $8, $9) on conflict (id) do update set seq = excluded.seq, hash = excluded.hash`,
    [
      ids,
      list.map((c) => c.statements),
      list.map((c) => c.ended !== undefined),
      list.map((c) => c.ended?.at ?? null),
      list.map((c) => c.ended?.rows ?? null),
      list.map((c) => c.ended?.bytes ?? null),
      list.map((c) => c.ended?.error ?? null),
      seq,
      hash,
    ],
  );
}

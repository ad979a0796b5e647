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
  /** the canonical JSON of each entry's data (writeData), written when the record was accepted */
  data: string[];
}

export function emptyBatch(): EntryBatch {
  return { types: [], times: [], sessions: [], data: [] };
}

const AUDIT_LOG_COLUMNS = "audit_log (seq, time, type, session_id, entry, prev_hash, hash)";

/** the batch's rows go in with one COPY: per row the server parses far less than from JSON or arrays */
export async function appendBatch(tx: Queryable, batch: EntryBatch): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock($1)`, [APPEND_LOCK]);
  const [head] = await tx.query<{ seq: unknown; hash: string }>(`select seq, hash from audit_head`);
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
  await project(tx, batch);
  await tx.query(
    `insert into audit_head (id, seq, hash) values (true, $1, $2) on conflict (id) do update set seq = excluded.seq, hash = excluded.hash`,
    [seq, prev],
  );
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

/** the sessions table is a queryable projection of the chained entries */
async function project(tx: Queryable, batch: EntryBatch): Promise<void> {
  const started: [string[], string[], string[], string[], string[], (string | null)[], string[]] = [[], [], [], [], [], [], []];
  const statements = new Map<string, number>();
  const ended: number[] = [];
  const { types, times, sessions, data } = batch;
  for (let i = 0; i < types.length; i++) {
    const session = sessions[i];
    if (session === undefined) continue;
    const type = types[i];
    if (type === "statement") {
      statements.set(session, (statements.get(session) ?? 0) + 1);
    } else if (type === "session_started") {
      const d = JSON.parse(data[i]!) as { protocol: string; identity: { issuer: string; subject: string }; connection: string; client?: string };
      const { identity } = d;
      const [ids, protocols, issuers, subjects, connections, clients, starts] = started;
      ids.push(session);
      protocols.push(d.protocol);
      issuers.push(identity.issuer);
      subjects.push(identity.subject);
      connections.push(d.connection);
      clients.push(d.client ?? null);
      starts.push(new Date(times[i]!).toISOString());
    } else if (type === "session_ended") {
      ended.push(i);
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
  for (const i of ended) {
    const d = JSON.parse(data[i]!) as { rows?: number; bytes?: number; error?: string };
    await tx.query(`update sessions set ended_at = $2, rows_out = $3, bytes_out = $4, error = $5 where id = $1`, [
      sessions[i], new Date(times[i]!), d.rows ?? 0, d.bytes ?? 0, d.error ?? null,
    ]);
  }
}

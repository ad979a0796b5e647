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
 * thread as a few arrays rather than an object per record.
 */
export interface EntryBatch {
  types: string[];
  /** ms since the epoch, when the gateway accepted the record */
  times: number[];
  sessions: (string | undefined)[];
  /** a sink record (RECORD_TYPES) itself, or an event's data */
  bodies: Record<string, unknown>[];
}

export function emptyBatch(): EntryBatch {
  return { types: [], times: [], sessions: [], bodies: [] };
}

/** one multi-row INSERT per batch: on the embedded store a statement costs far more than a row */
export async function appendBatch(tx: Queryable, batch: EntryBatch): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock($1)`, [APPEND_LOCK]);
  const [head] = await tx.query<{ seq: unknown; hash: string }>(`select seq, hash from audit_head`);
  let seq = head === undefined ? 0 : Number(head.seq);
  let prev = head?.hash ?? GENESIS;
  const { types, times, sessions, bodies } = batch;
  // one JSON parameter: JSON.stringify is native, where the driver escapes text[] elements in JS
  let rows = "[";
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
    const text = writeEntry(seq, iso, type, session, bodies[i]!, RECORD_TYPES.has(type) ? "session" : undefined);
    const hash = chainHash(prev, text);
    if (i > 0) rows += ",";
    rows += `{"seq":${seq},"time":"${iso}","type":${JSON.stringify(type)},"session_id":${session === undefined ? "null" : JSON.stringify(session)},"entry":${JSON.stringify(text)},"prev_hash":"${prev}","hash":"${hash}"}`;
    prev = hash;
  }
  await tx.query(
    `insert into audit_log (seq, time, type, session_id, entry, prev_hash, hash)
     select seq, time, type, session_id, entry, prev_hash, hash from json_to_recordset($1::json)
       as r(seq bigint, time timestamptz, type text, session_id text, entry text, prev_hash text, hash text)`,
    [`${rows}]`],
  );
  await project(tx, batch);
  await tx.query(
    `insert into audit_head (id, seq, hash) values (true, $1, $2) on conflict (id) do update set seq = excluded.seq, hash = excluded.hash`,
    [seq, prev],
  );
}

/** the sessions table is a queryable projection of the chained entries */
async function project(tx: Queryable, batch: EntryBatch): Promise<void> {
  const started: [string[], unknown[], string[], string[], unknown[], (string | null)[], string[]] = [[], [], [], [], [], [], []];
  const statements = new Map<string, number>();
  const ended: number[] = [];
  const { types, times, sessions, bodies } = batch;
  for (let i = 0; i < types.length; i++) {
    const session = sessions[i];
    if (session === undefined) continue;
    const type = types[i];
    if (type === "statement") {
      statements.set(session, (statements.get(session) ?? 0) + 1);
    } else if (type === "session_started") {
      const d = bodies[i]!;
      const identity = d.identity as { issuer: string; subject: string };
      const [ids, protocols, issuers, subjects, connections, clients, starts] = started;
      ids.push(session);
      protocols.push(d.protocol);
      issuers.push(identity.issuer);
      subjects.push(identity.subject);
      connections.push(d.connection);
      clients.push((d.client as string | undefined) ?? null);
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
    const d = bodies[i]!;
    await tx.query(`update sessions set ended_at = $2, rows_out = $3, bytes_out = $4, error = $5 where id = $1`, [
      sessions[i], new Date(times[i]!), d.rows ?? 0, d.bytes ?? 0, d.error ?? null,
    ]);
  }
}

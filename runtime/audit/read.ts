// Reading the audit log back: sessions (the projection) and a session's chained entries.

import type { Store } from "../store/types.js";
import type { ChainEntry } from "./chain.js";

export interface SessionSummary {
  id: string;
  protocol: string;
  issuer: string;
  subject: string;
  connection: string;
  client: string | null;
  startedAt: string;
  endedAt: string | null;
  statements: number;
  rows: number;
  bytes: number;
  error: string | null;
}

type SessionRow = {
  id: string; protocol: string; issuer: string; subject: string; connection: string; client: string | null;
  started_at: Date | string; ended_at: Date | string | null; statements: unknown; rows_out: unknown; bytes_out: unknown; error: string | null;
};

export async function listSessions(store: Store, options: { limit?: number; before?: string } = {}): Promise<SessionSummary[]> {
  const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
  const rows = options.before === undefined
    ? await store.query<SessionRow>(`select * from sessions order by started_at desc, id limit $1`, [limit])
    : await store.query<SessionRow>(`select * from sessions where started_at < $2 order by started_at desc, id limit $1`, [limit, options.before]);
  return rows.map(summary);
}

export async function getSession(store: Store, id: string): Promise<{ session: SessionSummary; entries: ChainEntry[] } | undefined> {
  const [row] = await store.query<SessionRow>(`select * from sessions where id = $1`, [id]);
  if (row === undefined) return undefined;
  const entries = await store.query<{ entry: string }>(`select entry from audit_log where session_id = $1 order by seq`, [id]);
  return { session: summary(row), entries: entries.map((e) => JSON.parse(e.entry) as ChainEntry) };
}

/** every entry in order, a page at a time */
export async function* allEntries(store: Store): AsyncGenerator<ChainEntry> {
  let after = 0;
  for (;;) {
    const rows = await store.query<{ seq: unknown; entry: string }>(`select seq, entry from audit_log where seq > $1 order by seq limit 1000`, [after]);
    for (const row of rows) yield JSON.parse(row.entry) as ChainEntry;
    if (rows.length < 1000) return;
    after = Number(rows.at(-1)!.seq);
  }
}

function summary(row: SessionRow): SessionSummary {
  return {
    id: row.id,
    protocol: row.protocol,
    issuer: row.issuer,
    subject: row.subject,
    connection: row.connection,
    client: row.client,
    startedAt: iso(row.started_at),
    endedAt: row.ended_at === null ? null : iso(row.ended_at),
    statements: Number(row.statements),
    rows: Number(row.rows_out),
    bytes: Number(row.bytes_out),
    error: row.error,
  };
}

function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

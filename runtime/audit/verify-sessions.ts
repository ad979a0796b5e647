// The `sessions` projection checked against the chain, for `hoopgate audit verify`. The console,
// /api/sessions and `audit sessions` read that table first, so a row deleted, edited (who ran
// the session, on which connection, from where, when, how much it read) or inserted would hide
// a session or change its story while every chained entry still verified.
//
// Each session is rebuilt from its chained records as append.ts's project() builds its row: the
// first session_started (protocol, issuer, subject, connection, client; started_at = its time),
// the number of statement records, the last session_ended (ended_at = its time, rows, bytes,
// error). The verifier feeds every entry it walks; a session's row is fetched and compared once
// the session has ended (a page's worth of sessions in one query), the ones still open at the
// end of the log last. Memory holds only the sessions open at the point of the walk, so a large
// log costs one extra indexed query per page. The table holds what the whole log says, so a row
// that differs from a session's records so far, and a record for a session no longer held (a
// second end; a record of a session that never started, as the admin API's are), has its
// session rebuilt from all its entries (by the session_id index) and compared again: only a
// difference that remains is a finding. A row no chained session explains is found by counting
// the table's rows, and named by one anti-join when they differ. Session ids are unique (UUIDs):
// a session started twice under one id counts its first start.

import type { Store } from "../store/types.js";
import { RECORD_TYPES } from "./append.js";

export type SessionProblem = { kind: "deleted" | "edited"; session: string; seq: number; columns?: string[] } | { kind: "inserted"; session: string };

/** the columns of `sessions` compared, as project() fills them */
const COLUMNS = ["protocol", "issuer", "subject", "connection", "client", "started_at", "ended_at", "statements", "rows_out", "bytes_out", "error"] as const;
type Column = (typeof COLUMNS)[number];

interface Expected {
  /** the entry that started it */
  seq: number;
  protocol: unknown;
  issuer: unknown;
  subject: unknown;
  connection: unknown;
  client: unknown;
  /** ms since the epoch */
  started_at: number;
  ended_at: number | null;
  statements: number;
  rows_out: number;
  bytes_out: number;
  error: unknown;
}

type SessionRow = { id: string } & Record<Column, unknown>;

/** an entry as the chain holds it (already parsed by the verifier) */
export interface ParsedEntry {
  type?: unknown;
  session?: unknown;
  time?: unknown;
  data?: unknown;
}

type Data = Record<string, unknown>;

function started(seq: number, entry: ParsedEntry): Expected {
  const d = (entry.data ?? {}) as Data;
  const identity = (d.identity ?? {}) as Data;
  return {
    seq, protocol: d.protocol, issuer: identity.issuer, subject: identity.subject, connection: d.connection, client: d.client ?? null,
    started_at: Date.parse(String(entry.time)), ended_at: null, statements: 0, rows_out: 0, bytes_out: 0, error: null,
  };
}

/** a statement or session_ended record of a started session, counted into what its row should say */
function count(expected: Expected, entry: ParsedEntry): void {
  if (entry.type === "statement") {
    expected.statements += 1;
    return;
  }
  const d = (entry.data ?? {}) as Data;
  expected.ended_at = Date.parse(String(entry.time));
  expected.rows_out = Number(d.rows ?? 0);
  expected.bytes_out = Number(d.bytes ?? 0);
  expected.error = d.error ?? null;
}

function time(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.getTime() : Date.parse(String(value));
}

/** the columns of the row that differ from what the chain says */
function differing(expected: Expected, row: SessionRow): string[] {
  const actual: Record<Column, unknown> = {
    ...row,
    started_at: time(row.started_at),
    ended_at: time(row.ended_at),
    statements: Number(row.statements),
    rows_out: Number(row.rows_out),
    bytes_out: Number(row.bytes_out),
  };
  return COLUMNS.filter((c) => actual[c] !== (expected[c] ?? null));
}

export class SessionsCheck {
  /** started in the walk and not yet compared */
  private readonly open = new Map<string, Expected>();
  /** ended since the last flush: compared at the next */
  private readonly ended = new Set<string>();
  /** records of sessions not held: rebuilt from their entries at the next flush */
  private readonly orphans = new Set<string>();
  /** sessions compared that should have a row */
  private rowsExpected = 0;
  /** sessions already named: a later record of theirs does not count them again */
  private readonly reported = new Set<string>();
  first: SessionProblem | undefined;
  problems = 0;

  constructor(private readonly store: Store) {}

  feed(seq: number, entry: ParsedEntry): void {
    const { type, session } = entry;
    if (typeof session !== "string" || typeof type !== "string" || !RECORD_TYPES.has(type)) return;
    const held = this.open.get(session);
    if (type === "session_started") {
      if (held === undefined && !this.ended.has(session)) this.open.set(session, started(seq, entry));
      return;
    }
    if (held === undefined) {
      this.orphans.add(session);
      return;
    }
    count(held, entry);
    if (type === "session_ended") this.ended.add(session);
  }

  /** compares the sessions that ended, and the orphans' */
  async flush(): Promise<void> {
    const ended = [...this.ended].map((id) => [id, this.open.get(id)!] as const);
    this.ended.clear();
    for (const [id] of ended) this.open.delete(id);
    const orphans = [...this.orphans].filter((id) => !this.open.has(id));
    this.orphans.clear();
    this.rowsExpected += ended.length;
    await this.compare(ended, false);
    await this.compare(await this.rebuild(orphans), true);
  }

  /** after the last entry: the sessions still open, then rows no chained session explains */
  async finish(): Promise<void> {
    for (const id of this.open.keys()) this.ended.add(id);
    await this.flush();
    const [count] = await this.store.query<{ n: unknown }>("select count(*) as n from sessions");
    if (Number(count?.n ?? 0) <= this.rowsExpected) return;
    const extra = await this.store.query<{ id: string }>(
      `select p.id from sessions p
       where not exists (select 1 from audit_log a where a.session_id = p.id and a.type = 'session_started')
       order by p.started_at, p.id`,
    );
    for (const { id } of extra) this.problem({ kind: "inserted", session: id });
  }

  /** the sessions as all their entries say (the orphans'), for those that were started */
  private async rebuild(ids: string[]): Promise<(readonly [string, Expected])[]> {
    if (ids.length === 0) return [];
    const rows = await this.store.query<{ seq: unknown; entry: string }>(
      `select seq, entry from audit_log where session_id = any($1::text[]) and type in ('session_started', 'statement', 'session_ended') order by seq`,
      [ids],
    );
    const rebuilt = new Map<string, Expected>();
    for (const row of rows) {
      const entry = JSON.parse(row.entry) as ParsedEntry;
      const id = entry.session as string;
      const held = rebuilt.get(id);
      if (entry.type === "session_started") {
        if (held === undefined) rebuilt.set(id, started(Number(row.seq), entry));
      } else if (held !== undefined) {
        count(held, entry);
      }
    }
    return [...rebuilt];
  }

  /** `whole`: rebuilt from all the session's entries; else from those walked so far, and a difference is checked again on the whole */
  private async compare(sessions: (readonly [string, Expected])[], whole: boolean): Promise<void> {
    if (sessions.length === 0) return;
    const again: string[] = [];
    const rows = await this.store.query<SessionRow>(
      `select id, ${COLUMNS.join(", ")} from sessions where id = any($1::text[])`,
      [sessions.map(([id]) => id)],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const [id, expected] of sessions) {
      const row = byId.get(id);
      if (row === undefined) {
        this.problem({ kind: "deleted", session: id, seq: expected.seq });
        continue;
      }
      const columns = differing(expected, row);
      if (columns.length === 0) continue;
      if (whole) this.problem({ kind: "edited", session: id, seq: expected.seq, columns });
      else again.push(id);
    }
    if (again.length > 0) await this.compare(await this.rebuild(again), true);
  }

  private problem(problem: SessionProblem): void {
    if (this.reported.has(problem.session)) return;
    this.reported.add(problem.session);
    this.problems += 1;
    if (this.first === undefined || ("seq" in problem && (!("seq" in this.first) || problem.seq < this.first.seq))) this.first = problem;
  }
}

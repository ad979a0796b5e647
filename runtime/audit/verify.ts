// `hoopgate audit verify`: walks the chain in order and names the first entry that is not what
// was appended — edited (its hash no longer matches), deleted (a gap in the sequence, or a
// missing tail against the head), or reordered (it links to an entry other than its predecessor).
// Once the chain holds, the `sessions` projection is checked against it (verify-sessions.ts): a
// session's row deleted, edited or inserted is named by the entry that started the session.

import type { Store } from "../store/types.js";
import { chainHash, GENESIS } from "./chain.js";
import { SessionsCheck, type ParsedEntry, type SessionProblem } from "./verify-sessions.js";

export type Verification =
  | { ok: true; entries: number; head?: string }
  | {
    ok: false;
    /** the entries verified before the problem; for a session row, all of them */
    entries: number;
    /** the entry at fault; for a session row, the one that started the session; null for a row no entry explains */
    seq: number | null;
    problem: "edited" | "deleted" | "reordered" | "inserted";
    message: string;
    /** set when the problem is a row of the sessions projection */
    session?: string;
  };

type LogRow = {
  seq: unknown;
  time: Date | string;
  type: string;
  session_id: string | null;
  entry: string;
  prev_hash: string;
  hash: string;
};

const PAGE = 1000;

export async function verifyAuditLog(store: Store): Promise<Verification> {
  const [head] = await store.query<{ seq: unknown; hash: string }>(`select seq, hash from audit_head`);
  let expected = 1;
  let prev = GENESIS;
  let count = 0;
  const sessions = new SessionsCheck(store);
  for (;;) {
    const rows = await store.query<LogRow>(
      `select seq, time, type, session_id, entry, prev_hash, hash from audit_log where seq >= $1 order by seq limit ${PAGE}`,
      [expected],
    );
    for (const row of rows) {
      const seq = Number(row.seq);
      const fail = (problem: "edited" | "deleted" | "reordered", message: string): Verification => ({ ok: false, entries: count, seq, problem, message });
      if (seq !== expected) {
        return { ok: false, entries: count, seq: expected, problem: "deleted", message: `entry ${expected} is missing: deleted (the log jumps from ${expected - 1} to ${seq})` };
      }
      const consistent = chainHash(row.prev_hash, row.entry) === row.hash;
      const entry = parse(row.entry);
      const appendedAs = typeof entry?.seq === "number" ? entry.seq : undefined;
      if (consistent && appendedAs !== seq) return fail("reordered", `entry ${seq} holds what was appended as entry ${appendedAs}: reordered`);
      if (row.prev_hash !== prev) {
        // a self-consistent entry that links elsewhere: its predecessor was rewritten, hash and all
        if (consistent && seq > 1) return { ok: false, entries: count - 1, seq: seq - 1, problem: "edited", message: `entry ${seq - 1} was edited: entry ${seq} was chained to a different entry ${seq - 1}` };
        return fail("edited", `entry ${seq} was edited: it is not chained to entry ${seq - 1}`);
      }
      if (!consistent) return fail("edited", `entry ${seq} was edited: its content does not match its hash`);
      const problem = columnsDisagree(row, entry, seq);
      if (problem !== undefined) return fail("edited", `entry ${seq} was edited: its ${problem} column does not match the chained entry`);
      sessions.feed(seq, entry!);
      prev = row.hash;
      expected += 1;
      count += 1;
    }
    await sessions.flush();
    if (rows.length < PAGE) break;
  }
  if (head !== undefined && (Number(head.seq) !== count || head.hash !== prev)) {
    const headSeq = Number(head.seq);
    if (headSeq > count) {
      return { ok: false, entries: count, seq: count + 1, problem: "deleted", message: `entries ${count + 1}..${headSeq} are missing: deleted from the end of the log` };
    }
    return { ok: false, entries: count, seq: headSeq, problem: "edited", message: `the chain head (entry ${headSeq}) does not match the log` };
  }
  if (head === undefined && count > 0) {
    return { ok: false, entries: count, seq: count, problem: "edited", message: "the chain head is missing" };
  }
  await sessions.finish();
  if (sessions.first !== undefined) return sessionFailure(sessions.first, sessions.problems, count);
  return count === 0 ? { ok: true, entries: 0 } : { ok: true, entries: count, head: prev };
}

function sessionFailure(first: SessionProblem, problems: number, entries: number): Verification {
  const more = problems - 1;
  const also = more > 0 ? ` (and ${more} more session row${more === 1 ? " that does" : "s that do"} not match the chain)` : "";
  const { session } = first;
  switch (first.kind) {
    case "deleted":
      return { ok: false, entries, seq: first.seq, problem: "deleted", session, message: `session ${session}, started by entry ${first.seq}, has no row in sessions: deleted${also}` };
    case "edited": {
      const columns = first.columns ?? [];
      return {
        ok: false, entries, seq: first.seq, problem: "edited", session,
        message: `the sessions row of session ${session} (started by entry ${first.seq}) was edited: its ${columns.join(", ")} ${columns.length === 1 ? "does" : "do"} not match the chain${also}`,
      };
    }
    case "inserted":
      return { ok: false, entries, seq: null, problem: "inserted", session, message: `sessions has a row for session ${session}, which no entry of the chain started: inserted${also}` };
  }
}

type Entry = ParsedEntry & { seq?: unknown };

function parse(text: string): Entry | undefined {
  try {
    const entry = JSON.parse(text) as unknown;
    return typeof entry === "object" && entry !== null ? (entry as Entry) : undefined;
  } catch {
    return undefined;
  }
}

/** the indexed columns beside the entry must say what the entry says */
function columnsDisagree(row: LogRow, entry: Entry | undefined, seq: number): string | undefined {
  if (entry === undefined) return "entry";
  if (entry.seq !== seq) return "seq";
  if (entry.type !== row.type) return "type";
  if ((entry.session ?? null) !== row.session_id) return "session_id";
  const time = row.time instanceof Date ? row.time.getTime() : Date.parse(row.time);
  if (typeof entry.time !== "string" || Date.parse(entry.time) !== time) return "time";
  return undefined;
}

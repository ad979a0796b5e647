// `hoopgate audit verify`: walks the chain in order and names the first entry that is not what
// was appended — edited (its hash no longer matches), deleted (a gap in the sequence, or a
// missing tail against the head), or reordered (it links to an entry other than its predecessor).

import type { Store } from "../store/types.js";
import { chainHash, GENESIS } from "./chain.js";

export type Verification =
  | { ok: true; entries: number; head?: string }
  | { ok: false; entries: number; seq: number; problem: "edited" | "deleted" | "reordered"; message: string };

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
      const appendedAs = entrySeq(row.entry);
      if (consistent && appendedAs !== seq) return fail("reordered", `entry ${seq} holds what was appended as entry ${appendedAs}: reordered`);
      if (row.prev_hash !== prev) {
        // a self-consistent entry that links elsewhere: its predecessor was rewritten, hash and all
        if (consistent && seq > 1) return { ok: false, entries: count - 1, seq: seq - 1, problem: "edited", message: `entry ${seq - 1} was edited: entry ${seq} was chained to a different entry ${seq - 1}` };
        return fail("edited", `entry ${seq} was edited: it is not chained to entry ${seq - 1}`);
      }
      if (!consistent) return fail("edited", `entry ${seq} was edited: its content does not match its hash`);
      const problem = columnsDisagree(row, seq);
      if (problem !== undefined) return fail("edited", `entry ${seq} was edited: its ${problem} column does not match the chained entry`);
      prev = row.hash;
      expected += 1;
      count += 1;
    }
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
  return count === 0 ? { ok: true, entries: 0 } : { ok: true, entries: count, head: prev };
}

function entrySeq(text: string): number | undefined {
  try {
    const seq = (JSON.parse(text) as { seq?: unknown }).seq;
    return typeof seq === "number" ? seq : undefined;
  } catch {
    return undefined;
  }
}

/** the indexed columns beside the entry must say what the entry says */
function columnsDisagree(row: LogRow, seq: number): string | undefined {
  let entry: { seq?: unknown; time?: unknown; type?: unknown; session?: unknown };
  try {
    entry = JSON.parse(row.entry) as typeof entry;
  } catch {
    return "entry";
  }
  if (entry.seq !== seq) return "seq";
  if (entry.type !== row.type) return "type";
  if ((entry.session ?? null) !== row.session_id) return "session_id";
  const time = row.time instanceof Date ? row.time.getTime() : Date.parse(row.time);
  if (typeof entry.time !== "string" || Date.parse(entry.time) !== time) return "time";
  return undefined;
}

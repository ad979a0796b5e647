// A session's row mask plans by result shape. A statement run again returns the same
// RowDescription, and its plan depends only on those bytes, the tables the statement read, the
// functions, operators and casts it used, whether it ran a stored statement (EXECUTE, FETCH),
// and catalog answers: reusing it skips the description's decoding, the provenance lookups and
// the plan's construction on every execution. An entry lives as long as a catalog answer does,
// so a changed view is seen within twice the catalog's TTL at most.

import { CATALOG_TTL_MS } from "./catalog.js";
import type { RowMaskPlan } from "../context.js";
import type { SqlIndirect } from "../../facts/types.js";
import type { StatementInfo } from "../expectations.js";
import { indirectOf } from "./mask-columns.js";
import { statementNames } from "../statement-names.js";

/** distinct result shapes one session keeps; past it the cache starts over */
const MAX_SHAPES = 256;

interface Entry {
  plan: RowMaskPlan | null;
  at: number;
}

export class RowPlanCache {
  private readonly entries = new Map<string, Entry>();
  /** the last shape looked up: a session usually repeats one statement, so most lookups hit it */
  private last: { frame: Buffer; tables: readonly string[] | null; functions: readonly string[] | null; indirect: SqlIndirect | null; key: string } | null = null;

  /** the key of a RowDescription for a statement (null: one the gateway never saw parsed) */
  key(frame: Buffer, info: StatementInfo | null): string {
    const tables = info === null ? null : statementNames(info.decision, "tables");
    const functions = info === null ? null : statementNames(info.decision, "functions");
    const indirect = info === null ? null : indirectOf(info);
    const last = this.last;
    if (last !== null && last.tables === tables && last.functions === functions && last.indirect === indirect && last.frame.equals(frame)) {
      return last.key;
    }
    // JSON escapes NUL, so the first NUL ends the names
    const names = info === null ? "?" : JSON.stringify([tables, functions, indirect]);
    const key = `${names}\0${frame.toString("latin1", 5)}`;
    this.last = { frame: Buffer.from(frame), tables, functions, indirect, key };
    return key;
  }

  /** the cached plan (null: nothing to mask), or undefined on a miss */
  get(key: string): RowMaskPlan | null | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (Date.now() - entry.at < CATALOG_TTL_MS) return entry.plan;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, plan: RowMaskPlan | null): void {
    if (this.entries.size >= MAX_SHAPES) this.entries.clear();
    this.entries.set(key, { plan, at: Date.now() });
  }
}

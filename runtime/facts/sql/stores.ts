// Which values a statement keeps beyond the rows its client receives, and where they may come
// from (SqlStores, docs/sql-facts.md). Read on collect.ts's walk: each field of a node gets a
// scope saying whether values read there may be stored, whether the relation named there is
// written rather than read, and which write target its column references name.

import type { ColumnRef, CopyStmt, FuncCall, RangeVar } from "libpg-query";
import type { SqlStores } from "../types.js";
import { nameParts, nodeAs, type JsonObject } from "./ast.js";
import { rangeVarNames } from "./names.js";

/**
 * Builtins that keep a value where a later statement, or another session, reads it without the
 * statement's masks: a setting (current_setting, SHOW), a sequence, a large object, a
 * notification, the WAL, an advisory lock's key (pg_locks), a server file. (dblink, which writes
 * to another database, is refused whole: hidden-queries.ts.)
 */
const STORING_FUNCTIONS: ReadonlySet<string> = new Set([
  "set_config", "setval",
  "lo_from_bytea", "lo_put", "lowrite",
  "pg_notify", "pg_logical_emit_message",
  "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_xact_lock", "pg_advisory_xact_lock_shared",
  "pg_try_advisory_lock", "pg_try_advisory_lock_shared", "pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared",
  "pg_file_write",
]);

/** A write target and the columns of its own that stored values refer to. */
interface Target {
  names: string[];
  /** how a whole-row reference names it: the relation's name and its alias */
  selves: Set<string>;
  columns: Set<string>;
}

export interface StoreScope {
  /** values read here may be stored */
  stored: boolean;
  /** in a CTE or COPY's query: a write's RETURNING rows flow on into the statement */
  nested: boolean;
  /** the relation named here is written, not read: a write target, the new table of CREATE TABLE AS */
  written: boolean;
  /** the write target whose own columns the column references here name */
  columnsOf?: Target;
}

export const TOP_SCOPE: StoreScope = { stored: false, nested: false, written: false };

export interface StoreFindings {
  storing: boolean;
  /** stored values may come from anywhere in the statement (a storing builtin, COPY to a file, a CTE) */
  fromAnywhere: boolean;
  /** relations named in positions whose values may be stored */
  storedFrom: Set<string>;
  /** relations named anywhere, write targets apart */
  reads: Set<string>;
  targets: Target[];
}

export function emptyFindings(): StoreFindings {
  return { storing: false, fromAnywhere: false, storedFrom: new Set(), reads: new Set(), targets: [] };
}

/** A node is entered: notes what it stores; returns its write target (INSERT, UPDATE, DELETE, MERGE) and the scope of its fields. */
export function enterNode(kind: string, body: JsonObject, scope: StoreScope, out: StoreFindings): { target?: Target; scope: StoreScope } {
  switch (kind) {
    case "InsertStmt":
    case "UpdateStmt":
    case "MergeStmt":
      out.storing = true;
      return { target: writeTarget(body.relation as RangeVar | undefined, out), scope };
    case "DeleteStmt":
      return { target: writeTarget(body.relation as RangeVar | undefined, out), scope };
    case "CreateTableAsStmt":
      out.storing = true;
      return { scope };
    case "SelectStmt":
      if (body.intoClause === undefined) return { scope };
      out.storing = true;
      return { scope: scope.stored ? scope : { ...scope, stored: true } };
    case "CopyStmt": {
      const copy = body as CopyStmt;
      if (!copy.is_from && (copy.is_program === true || copy.filename !== undefined)) {
        out.storing = true;
        out.fromAnywhere = true;
      }
      return { scope };
    }
    case "FuncCall": {
      const name = nameParts((body as FuncCall).funcname)?.at(-1);
      if (name !== undefined && STORING_FUNCTIONS.has(name)) {
        out.storing = true;
        out.fromAnywhere = true;
      }
      return { scope };
    }
    case "ColumnRef":
      if (scope.columnsOf !== undefined) addColumn(body as ColumnRef, scope.columnsOf);
      return { scope };
  }
  return { scope };
}

/** The scope of field `field` of a node of `kind` (`target`: the node's own write target). */
export function fieldScope(kind: string | undefined, field: string, scope: StoreScope, target: Target | undefined): StoreScope {
  switch (`${kind}.${field}`) {
    case "InsertStmt.relation":
    case "UpdateStmt.relation":
    case "DeleteStmt.relation":
    case "MergeStmt.relation":
    case "SelectStmt.intoClause":
    case "CreateTableAsStmt.into":
      return { ...scope, written: true };
    case "InsertStmt.selectStmt":
    case "UpdateStmt.fromClause":
    case "MergeStmt.sourceRelation":
    case "CreateTableAsStmt.query":
      return { ...scope, stored: true, columnsOf: undefined };
    // what these set is computed from the target's own row, too
    case "InsertStmt.onConflictClause":
    case "UpdateStmt.targetList":
    case "MergeStmt.mergeWhenClauses":
      return { ...scope, stored: true, columnsOf: target };
    case "InsertStmt.returningClause":
    case "UpdateStmt.returningClause":
    case "DeleteStmt.returningClause":
    case "MergeStmt.returningClause":
      // a top-level RETURNING goes to the client, masked; a nested one flows on with the whole row
      if (scope.nested) target?.columns.add("*");
      return scope;
    case "CopyStmt.query":
      return { ...scope, nested: true };
  }
  return scope;
}

/** The scope of a CTE body. */
export function cteScope(scope: StoreScope): StoreScope {
  return scope.nested ? scope : { ...scope, nested: true };
}

/** A relation named in `scope`. */
export function addRelation(names: readonly string[], scope: StoreScope, out: StoreFindings): void {
  if (scope.written) return;
  for (const name of names) {
    out.reads.add(name);
    if (scope.stored) out.storedFrom.add(name);
  }
}

/** The statement's SqlStores; `hasCte`: a CTE's rows may flow anywhere in it. */
export function storesOf(found: StoreFindings, hasCte: boolean): SqlStores | undefined {
  if (!found.storing) return undefined;
  const from = found.fromAnywhere || hasCte ? found.reads : found.storedFrom;
  return {
    from: [...from].sort(),
    targets: found.targets.filter((t) => t.columns.size > 0).map((t) => ({ names: t.names, columns: [...t.columns].sort() })),
  };
}

function writeTarget(relation: RangeVar | undefined, out: StoreFindings): Target | undefined {
  if (relation?.relname === undefined) return undefined;
  const selves = new Set([relation.relname]);
  if (relation.alias?.aliasname !== undefined) selves.add(relation.alias.aliasname);
  const target: Target = { names: rangeVarNames(relation), selves, columns: new Set() };
  out.targets.push(target);
  return target;
}

/** `col`, `t.col`, `s.t.col` name a column; `*`, `t.*` and a bare `t` (the whole row of the target) name them all. */
function addColumn(ref: ColumnRef, target: Target): void {
  const fields = ref.fields ?? [];
  const last = fields.at(-1);
  const name = nodeAs(last, "String")?.sval;
  if (name === undefined) target.columns.add("*");
  else target.columns.add(fields.length === 1 && target.selves.has(name) ? "*" : name);
}

// Which values a statement keeps beyond the rows its client receives, and where they may come
// from (SqlStores, docs/sql-facts.md). Read on collect.ts's walk: each field of a node gets a
// scope saying whether values read there may be stored, whether the relation named there is
// written rather than read, and which write target its column references name.

import type { ColumnRef, CopyStmt, FuncCall, RangeVar } from "libpg-query";
import type { SqlStores } from "../types.js";
import { nameParts, nodeAs, type JsonObject } from "./ast.js";
import { rangeVarNames } from "./names.js";

/**
 * Builtins that keep a value, or change state, where a later statement or another session can
 * read what their arguments were, without the statement's masks: a setting (current_setting,
 * SHOW), a sequence's value or how often it was advanced, the random seed, large objects (their
 * OIDs, contents, sizes, which exist), a notification, the WAL, advisory locks (pg_locks),
 * replication origins and slots (their names), statistics counters reset or kept, a backend
 * terminated or canceled, a server file or log. PostgreSQL 15's volatile builtins, less those
 * that only read. (dblink, which writes to another database, is refused whole: hidden-queries.ts.)
 */
const STORING_FUNCTIONS: ReadonlySet<string> = new Set([
  "set_config", "setval", "nextval", "setseed",
  "lo_create", "lo_creat", "lo_import", "lo_export", "lo_from_bytea", "lo_put", "lowrite", "lo_truncate", "lo_truncate64",
  "lo_unlink", "lo_open", "lo_close", "lo_lseek", "lo_lseek64",
  "pg_notify", "pg_logical_emit_message",
  "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_xact_lock", "pg_advisory_xact_lock_shared",
  "pg_try_advisory_lock", "pg_try_advisory_lock_shared", "pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared",
  "pg_advisory_unlock", "pg_advisory_unlock_shared", "pg_advisory_unlock_all",
  "pg_replication_origin_create", "pg_replication_origin_drop", "pg_replication_origin_advance",
  "pg_replication_origin_session_setup", "pg_replication_origin_session_reset", "pg_replication_origin_xact_setup", "pg_replication_origin_xact_reset",
  "pg_create_physical_replication_slot", "pg_create_logical_replication_slot", "pg_copy_physical_replication_slot",
  "pg_copy_logical_replication_slot", "pg_drop_replication_slot", "pg_replication_slot_advance",
  "pg_create_restore_point", "pg_backup_start", "pg_backup_stop", "pg_switch_wal", "pg_rotate_logfile", "pg_reload_conf", "pg_promote",
  "pg_wal_replay_pause", "pg_wal_replay_resume", "pg_terminate_backend", "pg_cancel_backend", "pg_log_backend_memory_contexts",
  "pg_stat_reset", "pg_stat_reset_shared", "pg_stat_reset_single_table_counters", "pg_stat_reset_single_function_counters",
  "pg_stat_reset_slru", "pg_stat_reset_replication_slot", "pg_stat_reset_subscription_stats", "pg_stat_force_next_flush", "pg_stat_clear_snapshot",
  "brin_summarize_range", "brin_summarize_new_values", "brin_desummarize_range", "gin_clean_pending_list",
  "pg_import_system_collations", "pg_extension_config_dump", "pg_nextoid",
  "pg_file_write", "pg_file_rename", "pg_file_unlink",
]);

/** binary_upgrade_set_next_… and the like: they choose the OIDs the next objects get */
const STORING_PREFIXES: readonly string[] = ["binary_upgrade_"];

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
      if (name !== undefined && (STORING_FUNCTIONS.has(name) || STORING_PREFIXES.some((prefix) => name.startsWith(prefix)))) {
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
  // a storing builtin may take any column of a written table: in its WHERE, MERGE's ON, or
  // RETURNING (`delete from t where set_config('x', ssn, false) is null`)
  if (found.fromAnywhere) for (const target of found.targets) target.columns.add("*");
  return {
    from: [...(found.fromAnywhere || hasCte ? found.reads : found.storedFrom)].sort(),
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

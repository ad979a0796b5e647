// The statement kind → `sql.command`. `alter`, `create` and `drop` cover every object kind.

import type { DefElem, Node } from "libpg-query";
import type { SqlCommand } from "../../schema/attributes.js";
import { isObject, kindOf, nodeAs } from "./ast.js";

const BY_KIND: Readonly<Record<string, SqlCommand>> = {
  InsertStmt: "insert",
  UpdateStmt: "update",
  DeleteStmt: "delete",
  MergeStmt: "merge",
  CopyStmt: "copy",
  TruncateStmt: "truncate",
  VariableSetStmt: "set",
  ConstraintsSetStmt: "set",
  VariableShowStmt: "show",
  CallStmt: "call",
  DoStmt: "do",
  ExecuteStmt: "execute",
  PrepareStmt: "prepare",
  LockStmt: "lock",
  ListenStmt: "listen",
  NotifyStmt: "notify",
  CommentStmt: "comment",
  ReindexStmt: "reindex",
  ClusterStmt: "cluster",
  RefreshMatViewStmt: "refresh",
  // CREATE statements whose node name does not start with "Create"
  DefineStmt: "create",
  ViewStmt: "create",
  IndexStmt: "create",
  RuleStmt: "create",
  CompositeTypeStmt: "create",
  ImportForeignSchemaStmt: "create",
  // ALTER statements whose node name does not start with "Alter"
  RenameStmt: "alter",
  ReassignOwnedStmt: "alter",
};

const TRANSACTION: Readonly<Record<string, SqlCommand>> = {
  TRANS_STMT_BEGIN: "begin",
  TRANS_STMT_START: "begin",
  TRANS_STMT_COMMIT: "commit",
  TRANS_STMT_ROLLBACK: "rollback",
  TRANS_STMT_ROLLBACK_TO: "rollback",
  // SAVEPOINT, RELEASE and two-phase commit (PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED) → other
};

/**
 * True when an EXPLAIN runs its statement. Any ANALYZE option counts, whatever its value
 * (`EXPLAIN (ANALYZE false) …` is treated as executing): the value may be a literal, and
 * facts never depend on literal values.
 */
export function explainExecutes(options: readonly Node[] | undefined): boolean {
  return (options ?? []).some((o) => {
    const opt: DefElem | undefined = nodeAs(o, "DefElem");
    return opt?.defname?.toLowerCase() === "analyze";
  });
}

/** The command of one parsed statement (the outer statement; see facts.ts for CTE writes). */
export function commandOf(stmt: Node): SqlCommand {
  const kind = kindOf(stmt);
  if (kind === undefined || !isObject(stmt)) return "other";
  const select = nodeAs(stmt, "SelectStmt");
  if (select) return select.intoClause ? "create" : "select";
  const explain = nodeAs(stmt, "ExplainStmt");
  if (explain) return explain.query && explainExecutes(explain.options) ? commandOf(explain.query) : "explain";
  const grant = nodeAs(stmt, "GrantStmt") ?? nodeAs(stmt, "GrantRoleStmt");
  if (grant) return grant.is_grant ? "grant" : "revoke";
  const alterDefault = nodeAs(stmt, "AlterDefaultPrivilegesStmt");
  if (alterDefault) return alterDefault.action?.is_grant ? "grant" : "revoke";
  const vacuum = nodeAs(stmt, "VacuumStmt");
  if (vacuum) return vacuum.is_vacuumcmd ? "vacuum" : "analyze";
  const transaction = nodeAs(stmt, "TransactionStmt");
  if (transaction) return (transaction.kind && TRANSACTION[transaction.kind]) ?? "other";
  const mapped = BY_KIND[kind];
  if (mapped) return mapped;
  if (kind.startsWith("Create")) return "create";
  if (kind.startsWith("Alter")) return "alter";
  if (kind.startsWith("Drop")) return "drop";
  return "other";
}

// `sql.has_where`: does an UPDATE/DELETE/MERGE condition restrict the target's rows whatever
// the literal values are? Only column references decide; constants and parameters never do,
// so `WHERE 1=1` and `WHERE 1=2` are both "no WHERE", and facts stay independent of literals.
//
// A condition counts when it references a column of the target relation, except:
// - OR counts only if every branch counts; AND counts if any branch counts; NOT flips the two
//   (De Morgan), so `NOT (id = 5 AND 1=2)` does not count;
// - a comparison with the same target column on both sides (`id = id`, `id IN (id, 5)`) does not count;
// - with FROM/USING (and always in MERGE) an unqualified column may belong to the other relation,
//   so only columns qualified by the target's name or alias count;
// - `WHERE CURRENT OF cursor` counts.
// This catches missing and constant-true conditions; it is not a proof of selectivity
// (`id >= 0` is a real WHERE).

import type { A_Expr, BoolExpr, BooleanTest, ColumnRef, DeleteStmt, MergeStmt, Node, NullTest, RangeVar, SubLink, UpdateStmt } from "libpg-query";
import { isObject, kindOf, nodeAs } from "./ast.js";
import type { Write } from "./collect.js";

interface Target {
  /** names a qualified column may use for the target: its alias, else its name */
  names: ReadonlySet<string>;
  /** another relation is in scope (FROM, USING, MERGE source): unqualified columns are not the target's */
  joined: boolean;
}

/** True when every UPDATE/DELETE/MERGE the statement runs is restricted; true when it runs none. */
export function writesAreRestricted(writes: readonly Write[]): boolean {
  return writes.every((w) => {
    switch (w.kind) {
      case "insert": return true;
      case "delete": return deleteRestricted(w.stmt);
      case "update": return updateRestricted(w.stmt);
      case "merge": return mergeRestricted(w.stmt);
    }
  });
}

function deleteRestricted(stmt: DeleteStmt): boolean {
  return counts(stmt.whereClause, true, target(stmt.relation, (stmt.usingClause ?? []).length > 0));
}

function updateRestricted(stmt: UpdateStmt): boolean {
  return counts(stmt.whereClause, true, target(stmt.relation, (stmt.fromClause ?? []).length > 0));
}

/**
 * Every UPDATE/DELETE action must be restricted: a WHEN MATCHED action by the ON condition
 * or its own condition; a WHEN NOT MATCHED BY SOURCE action (rows the ON condition did not
 * match) only by its own condition. INSERT and DO NOTHING actions do not matter.
 */
function mergeRestricted(stmt: MergeStmt): boolean {
  const t = target(stmt.relation, true);
  const on = counts(stmt.joinCondition, true, t);
  return (stmt.mergeWhenClauses ?? []).every((c) => {
    const clause = nodeAs(c, "MergeWhenClause");
    if (!clause || (clause.commandType !== "CMD_UPDATE" && clause.commandType !== "CMD_DELETE")) return true;
    const own = counts(clause.condition, true, t);
    return clause.matchKind === "MERGE_WHEN_NOT_MATCHED_BY_SOURCE" ? own : on || own;
  });
}

function target(rel: RangeVar | undefined, joined: boolean): Target {
  const names = new Set<string>();
  const alias = rel?.alias?.aliasname;
  if (alias !== undefined) names.add(alias);
  else if (rel?.relname !== undefined) names.add(rel.relname);
  return { names, joined };
}

/** Does `expr`, read with `positive` polarity (false under an odd number of NOTs), restrict rows? */
function counts(expr: Node | undefined, positive: boolean, t: Target): boolean {
  if (expr === undefined) return false;
  if (nodeAs(expr, "CurrentOfExpr")) return true;
  if (nodeAs(expr, "A_Const") || nodeAs(expr, "ParamRef")) return false;
  const bool = nodeAs(expr, "BoolExpr");
  if (bool) return boolCounts(bool, positive, t);
  const test = nodeAs(expr, "BooleanTest");
  if (test) return booleanTestCounts(test, positive, t);
  const nullTest: NullTest | undefined = nodeAs(expr, "NullTest");
  if (nullTest) return bothPolarities(nullTest.arg, t);
  const cast = nodeAs(expr, "TypeCast");
  if (cast) return counts(cast.arg, positive, t);
  const aexpr = nodeAs(expr, "A_Expr");
  if (aexpr) return aexprCounts(aexpr, positive, t);
  const sublink = nodeAs(expr, "SubLink");
  if (sublink) return sublinkCounts(sublink, t);
  return leafCounts([expr], t);
}

function boolCounts(bool: BoolExpr, positive: boolean, t: Target): boolean {
  const args = bool.args ?? [];
  if (bool.boolop === "NOT_EXPR") return counts(args[0], !positive, t);
  const conjunction = (bool.boolop === "AND_EXPR") === positive;
  return conjunction ? args.some((a) => counts(a, positive, t)) : args.length > 0 && args.every((a) => counts(a, positive, t));
}

function booleanTestCounts(test: BooleanTest, positive: boolean, t: Target): boolean {
  switch (test.booltesttype) {
    case "IS_TRUE":
    case "IS_NOT_FALSE":
      return counts(test.arg, positive, t);
    case "IS_FALSE":
    case "IS_NOT_TRUE":
      return counts(test.arg, !positive, t);
    default:
      return bothPolarities(test.arg, t);
  }
}

/** IS [NOT] NULL / UNKNOWN over a condition: restricts only if the condition does either way. */
function bothPolarities(arg: Node | undefined, t: Target): boolean {
  return counts(arg, true, t) && counts(arg, false, t);
}

function aexprCounts(e: A_Expr, positive: boolean, t: Target): boolean {
  const list = nodeAs(e.rexpr, "List")?.items ?? [];
  const op = nodeAs(e.name?.[0], "String")?.sval;
  if (e.kind === "AEXPR_IN" && e.lexpr) {
    // `x IN (a, b)` is `x = a OR x = b`; `x NOT IN (a, b)` is `x <> a AND x <> b`
    const disjunction = (op === "=") === positive;
    const each = list.map((item) => leafCounts([e.lexpr as Node, item], t));
    return disjunction ? each.length > 0 && each.every(Boolean) : each.some(Boolean);
  }
  if ((e.kind === "AEXPR_BETWEEN" || e.kind === "AEXPR_NOT_BETWEEN") && e.lexpr) {
    // `x BETWEEN a AND b` is `x >= a AND x <= b`; NOT BETWEEN is the OR of the negations
    const disjunction = (e.kind === "AEXPR_NOT_BETWEEN") === positive;
    const each = list.map((bound) => leafCounts([e.lexpr as Node, bound], t));
    return disjunction ? each.length > 0 && each.every(Boolean) : each.some(Boolean);
  }
  const sides = [e.lexpr, ...(list.length > 0 ? list : [e.rexpr])].filter((s): s is Node => s !== undefined);
  return leafCounts(sides, t);
}

/** EXISTS counts only when correlated to the target; `x IN (SELECT …)` is a comparison. */
function sublinkCounts(link: SubLink, t: Target): boolean {
  if (link.subLinkType === "EXISTS_SUBLINK") return targetColumns(link.subselect, t).size > 0;
  return leafCounts([link.testexpr, link.subselect].filter((s): s is Node => s !== undefined), t);
}

/**
 * A predicate over `sides` restricts when it references a target column, no target column
 * appears on two sides, and no boolean condition nested inside it fails to restrict.
 */
function leafCounts(sides: readonly Node[], t: Target): boolean {
  const seen = new Set<string>();
  for (const side of sides) {
    const cols = targetColumns(side, t);
    for (const c of cols) if (seen.has(c)) return false;
    for (const c of cols) seen.add(c);
  }
  return seen.size > 0 && sides.every((s) => nestedConditionsCount(s, t));
}

/** `coalesce(id = 5 OR true, false)`: a condition or operator nested in an expression must restrict both ways. */
function nestedConditionsCount(value: unknown, t: Target): boolean {
  if (Array.isArray(value)) return value.every((v) => nestedConditionsCount(v, t));
  if (!isObject(value)) return true;
  const kind = kindOf(value);
  if (kind === "SubLink" || kind === "SelectStmt") return true;
  if (kind === "BoolExpr" || kind === "BooleanTest" || kind === "NullTest" || kind === "A_Expr") {
    return bothPolarities(value as Node, t);
  }
  return Object.values(value).every((v) => nestedConditionsCount(v, t));
}

/**
 * Target columns an expression references. Inside a subquery with a FROM clause an
 * unqualified name is taken as the subquery's own; only names qualified by the target count.
 */
function targetColumns(value: unknown, t: Target, inSubquery = false, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) targetColumns(v, t, inSubquery, out);
    return out;
  }
  if (!isObject(value)) return out;
  const ref: ColumnRef | undefined = nodeAs(value, "ColumnRef");
  if (ref) {
    const column = targetColumn(ref, t, inSubquery);
    if (column !== undefined) out.add(column);
    return out;
  }
  const select = nodeAs(value, "SelectStmt");
  const enters = select !== undefined && (select.fromClause ?? []).length > 0;
  for (const v of Object.values(value)) targetColumns(v, t, inSubquery || enters, out);
  return out;
}

function targetColumn(ref: ColumnRef, t: Target, inSubquery: boolean): string | undefined {
  const fields = (ref.fields ?? []).map((f) => nodeAs(f, "String")?.sval ?? "*");
  const column = fields[fields.length - 1];
  const qualifier = fields[fields.length - 2];
  if (column === undefined) return undefined;
  if (qualifier === undefined) return inSubquery || t.joined ? undefined : column;
  return t.names.has(qualifier) ? column : undefined;
}

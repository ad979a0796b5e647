// `sql.has_where`: does an UPDATE/DELETE/MERGE condition (or an upsert's) restrict the target's
// rows whatever the literal values are? Only column references decide; constants and parameters
// never do, so `WHERE 1=1` and `WHERE 1=2` are both "no WHERE", and facts stay independent of
// literals.
//
// A condition counts when it references a column of the target relation, except:
// - OR counts only if every branch counts; AND counts if any branch counts; NOT flips the two
//   (De Morgan), so `NOT (id = 5 AND 1=2)` does not count;
// - a comparison with the same target column on two sides does not count (`id = id`,
//   `id IN (id, 5)`), and the same column reached through another reference to the target's
//   relation is the same column: a subquery over it that its own WHERE does not restrict
//   (`id IN (SELECT id FROM t)`), a self-join (`UPDATE t … FROM t t2 WHERE t.id = t2.id`,
//   `MERGE INTO t USING t s ON t.id = s.id`), an upsert's `excluded` row, and any column of a
//   subquery or CTE in FROM that reads such a reference (`USING (SELECT * FROM t) s`), of the
//   relation renamed by a column alias list (`t AS t2(x)`), of a `JOIN … USING (…) AS j` over one,
//   or of a LATERAL subquery or function in FROM that may read one; a relation's name alone is its
//   whole row;
// - system columns (tableoid, ctid, xmin, xmax, cmin, cmax) never count;
// - a null test counts only on a plain column (`deleted_at IS NULL`): over a condition or an
//   expression (`(id = 5) IS NOT NULL`, `coalesce(x, 0) IS NULL`) it tests no row's values;
// - EXISTS counts only as far as its subquery's WHERE restricts the target (correlation);
// - with FROM/USING (and always in MERGE and ON CONFLICT) an unqualified column may belong to
//   another relation, so only columns qualified by the target's name or alias count;
// - `WHERE CURRENT OF cursor` counts.
// An upsert (INSERT … ON CONFLICT DO UPDATE) updates the rows its proposed rows conflict with:
// restricted when those come from a VALUES list (no set-returning builtin expands a row) or
// DEFAULT VALUES, or when its DO UPDATE has a restricting WHERE; unrestricted from a query.
// This catches missing and constant-true conditions; it is not a proof of selectivity
// (`id >= 0` is a real WHERE). A condition too complex to judge within a fixed number of steps
// is unrestricted.

import type { A_Expr, BoolExpr, BooleanTest, ColumnRef, DeleteStmt, InsertStmt, MergeStmt, Node, RangeVar, SelectStmt, SubLink, UpdateStmt } from "libpg-query";
import { isObject, kindOf, nameParts, nodeAs, type JsonObject } from "./ast.js";
import type { Write } from "./collect.js";
import { SET_RETURNING_BUILTINS } from "./set-returning.js";

/** Columns every row has, whose values do not choose rows by the data: never a restriction. */
const SYSTEM_COLUMNS = new Set(["tableoid", "ctid", "xmin", "xmax", "cmin", "cmax"]);
/** the alias of the proposed row in ON CONFLICT DO UPDATE */
const EXCLUDED = "excluded";
/** nodes that reference no column */
const LEAVES = new Set(["A_Const", "ParamRef", "String", "Integer", "Float", "Boolean", "SetToDefault", "SQLValueFunction"]);
/** the most nodes one write's judgement may visit (memoized visits are free) */
const STEP_BUDGET = 50_000;

class TooComplex extends Error {}

/** The write's target relation and what the statement around it holds. */
interface Scope {
  name: string;
  schema: string | undefined;
  /** CTE names (anywhere in the statement) whose rows may be the target's own */
  derivedCtes: ReadonlySet<string>;
  steps: number;
  /** frames by what they hold: a frame is made once per content, so what is judged in it is judged once */
  frames: Map<string, Frame>;
}

/**
 * How column references resolve where an expression stands: which qualifiers name the target,
 * an unrestricted copy of it (same columns, every row), or a relation derived from such a copy
 * (columns unknown: any may be a copy); and what an unqualified name is.
 */
interface Frame {
  scope: Scope;
  target: ReadonlySet<string>;
  copies: ReadonlySet<string>;
  derived: ReadonlySet<string>;
  unqualified: "target" | "copy" | "derived" | "other";
  counted: Map<object, [boolean | undefined, boolean | undefined]>;
  referenced: Map<object, Refs>;
  inner: Map<object, Frame>;
}

/** Columns an expression references: the target's, and copies' (`*`: any column). */
interface Refs {
  target: ReadonlySet<string>;
  copy: ReadonlySet<string>;
}

const NONE: Refs = { target: new Set(), copy: new Set() };

interface Binding {
  name: string;
  kind: "copy" | "derived" | "other";
}

/** True when every UPDATE/DELETE/MERGE (and upsert) the statement runs is restricted; true when it runs none. */
export function writesAreRestricted(writes: readonly Write[], root: Node): boolean {
  if (writes.every((w) => w.kind === "insert")) return true;
  const ctes = commonTableExprs(root);
  return writes.every((w) => {
    try {
      switch (w.kind) {
        case "insert": return true;
        case "delete": return counts(w.stmt.whereClause, true, topFrame(w.stmt.relation, w.stmt.usingClause ?? [], ctes));
        case "update":
          return "onConflict" in w ? upsertRestricted(w.onConflict, ctes) : counts(w.stmt.whereClause, true, topFrame(w.stmt.relation, w.stmt.fromClause ?? [], ctes));
        case "merge": return mergeRestricted(w.stmt, ctes);
      }
    } catch (error) {
      if (error instanceof TooComplex) return false;
      throw error;
    }
  });
}

/**
 * Every UPDATE/DELETE action must be restricted: a WHEN MATCHED action by the ON condition
 * or its own condition; a WHEN NOT MATCHED BY SOURCE action (rows the ON condition did not
 * match) only by its own condition. INSERT and DO NOTHING actions do not matter.
 */
function mergeRestricted(stmt: MergeStmt, ctes: readonly Cte[]): boolean {
  const source = stmt.sourceRelation === undefined ? [] : [stmt.sourceRelation];
  const f = topFrame(stmt.relation, source, ctes, "other");
  const on = counts(stmt.joinCondition, true, f);
  return (stmt.mergeWhenClauses ?? []).every((c) => {
    const clause = nodeAs(c, "MergeWhenClause");
    if (!clause || (clause.commandType !== "CMD_UPDATE" && clause.commandType !== "CMD_DELETE")) return true;
    const own = counts(clause.condition, true, f);
    return clause.matchKind === "MERGE_WHEN_NOT_MATCHED_BY_SOURCE" ? own : on || own;
  });
}

/**
 * INSERT … ON CONFLICT DO UPDATE updates each existing row a proposed row conflicts with: as
 * many as the VALUES list has rows, or every row a query yields. Its `excluded` row has the
 * conflicting row's key, so it is a copy of the target.
 */
function upsertRestricted(stmt: InsertStmt, ctes: readonly Cte[]): boolean {
  if (valuesBounded(stmt.selectStmt)) return true;
  const f = topFrame(stmt.relation, [], ctes, "other", [EXCLUDED]);
  return counts(stmt.onConflictClause?.whereClause, true, f);
}

/** DEFAULT VALUES, or a VALUES list no set-returning builtin expands (outside subqueries, where it cannot). */
function valuesBounded(source: Node | undefined): boolean {
  if (source === undefined) return true;
  const select = nodeAs(source, "SelectStmt");
  if (select?.valuesLists === undefined || isSetOperation(select)) return false;
  return !callsSetReturning(select.valuesLists);
}

function callsSetReturning(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(callsSetReturning);
  if (!isObject(value)) return false;
  const kind = kindOf(value);
  if (kind === "SubLink") return false;
  if (kind === "FuncCall") {
    const name = nameParts(nodeAs(value, "FuncCall")?.funcname)?.at(-1);
    if (name !== undefined && SET_RETURNING_BUILTINS.has(name)) return true;
  }
  return Object.values(value).some(callsSetReturning);
}

// ---- frames

function topFrame(rel: RangeVar | undefined, items: readonly Node[], ctes: readonly Cte[], unqualified?: "other", copies: readonly string[] = []): Frame {
  const name = rel?.relname ?? "";
  const scope: Scope = { name, schema: rel?.schemaname, derivedCtes: new Set(), steps: 0, frames: new Map() };
  scope.derivedCtes = derivedCtes(ctes, scope);
  const base = frame(scope, new Set([rel?.alias?.aliasname ?? name]), new Set(copies), new Set(), "other");
  // a relation in the statement's own FROM/USING/MERGE source is restricted only by the statement's conditions
  const bindings = fromBindings(items, base);
  return frame(
    scope,
    base.target,
    new Set([...copies, ...bindings.filter((b) => b.kind === "copy").map((b) => b.name)]),
    new Set(bindings.filter((b) => b.kind === "derived").map((b) => b.name)),
    unqualified ?? (items.length > 0 ? "other" : "target"),
  );
}

/** A frame naming nothing but the relation and the CTEs. */
function neutral(scope: Scope): Frame {
  return frame(scope, new Set(), new Set(), new Set(scope.derivedCtes), "other");
}

function frame(scope: Scope, target: ReadonlySet<string>, copies: ReadonlySet<string>, derived: ReadonlySet<string>, unqualified: Frame["unqualified"]): Frame {
  const key = JSON.stringify([[...target].sort(), [...copies].sort(), [...derived].sort(), unqualified]);
  const known = scope.frames.get(key);
  if (known !== undefined) return known;
  step(scope);
  const made: Frame = { scope, target, copies, derived, unqualified, counted: new Map(), referenced: new Map(), inner: new Map() };
  scope.frames.set(key, made);
  return made;
}

/** The frame inside a SELECT with a FROM clause: its items shadow outer names; copies of the target its WHERE restricts are other relations. */
function innerFrame(select: SelectStmt, f: Frame): Frame {
  const items = select.fromClause ?? [];
  if (items.length === 0) return f;
  const known = f.inner.get(select);
  if (known !== undefined) return known;
  step(f.scope);
  const bindings = fromBindings(items, f);
  const names = new Set(bindings.map((b) => b.name));
  const outer = (s: ReadonlySet<string>) => [...s].filter((n) => !names.has(n));
  const copies = bindings.filter((b) => b.kind === "copy");
  const derived = bindings.filter((b) => b.kind === "derived").map((b) => b.name);
  const free = copies.filter((c) => {
    if (select.whereClause === undefined) return true;
    // in the copy's own frame, the target's columns are the copy's: `t2.id = t.id` restricts nothing
    const own = frame(
      f.scope,
      new Set([...outer(f.target), c.name]),
      new Set([...outer(f.copies), ...copies.filter((o) => o !== c).map((o) => o.name)]),
      new Set([...outer(f.derived), ...derived]),
      bindings.length === 1 ? "target" : "other",
    );
    return !counts(select.whereClause, true, own);
  }).map((c) => c.name);
  const inner = frame(
    f.scope,
    new Set(outer(f.target)),
    new Set([...outer(f.copies), ...free]),
    new Set([...outer(f.derived), ...derived]),
    free.length > 0 ? "copy" : derived.length > 0 ? "derived" : "other",
  );
  f.inner.set(select, inner);
  return inner;
}

/** The names FROM items bind, and whether each is the target's relation, derived from it, or another. */
function fromBindings(items: readonly Node[], f: Frame): Binding[] {
  const out: Binding[] = [];
  for (const item of items) bindItem(item, f, out);
  return out;
}

/** Adds the names `item` binds to `out`, which holds what the FROM list bound before it (a LATERAL item may read those). */
function bindItem(item: Node, f: Frame, out: Binding[]): void {
  const rv = nodeAs(item, "RangeVar") ?? nodeAs(nodeAs(item, "RangeTableSample")?.relation, "RangeVar");
  if (rv) {
    const kind = relationKind(rv, f.scope);
    // a column alias list renames the copy's columns (`t AS t2(x)`: x is t's first column): which is which is not known here
    const renamed = kind === "copy" && (rv.alias?.colnames?.length ?? 0) > 0;
    out.push({ name: rv.alias?.aliasname ?? rv.relname ?? "", kind: renamed ? "derived" : kind });
    return;
  }
  const join = nodeAs(item, "JoinExpr");
  if (join) {
    const start = out.length;
    for (const side of [join.larg, join.rarg]) if (side !== undefined) bindItem(side, f, out);
    const inner = out.splice(start);
    const kind = inner.some((b) => b.kind !== "other") ? "derived" : "other";
    if (join.alias?.aliasname !== undefined) {
      out.push({ name: join.alias.aliasname, kind });
      return;
    }
    out.push(...inner);
    // `a JOIN b USING (id) AS j`: j.id is a's and b's id
    if (join.join_using_alias?.aliasname !== undefined) out.push({ name: join.join_using_alias.aliasname, kind });
    return;
  }
  // a subquery, a function or a table function: derived when it reads a copy (judged once, in a frame that knows only the
  // relation and the CTEs: that does not depend on where it stands), or when it may read one bound before it (a LATERAL
  // subquery; a function in FROM always may)
  const sub = nodeAs(item, "RangeSubselect");
  const lateral = sub === undefined || sub.lateral === true;
  const related = lateral && out.some((b) => b.kind !== "other");
  const derived = related || refs(item, neutral(f.scope)).copy.size > 0;
  out.push({ name: itemName(item), kind: derived ? "derived" : "other" });
}

/** The name a subquery, function or table function in FROM binds: its alias, else a function's name. */
function itemName(item: Node): string {
  const fn = nodeAs(item, "RangeFunction");
  if (fn !== undefined && fn.alias?.aliasname === undefined) {
    const first = nodeAs(nodeAs(fn.functions?.[0], "List")?.items?.[0], "FuncCall");
    return nameParts(first?.funcname)?.at(-1) ?? "";
  }
  const wrapped: unknown = item;
  const kind = kindOf(wrapped);
  const body = kind === undefined || !isObject(wrapped) ? undefined : wrapped[kind];
  const alias = isObject(body) && isObject(body.alias) ? body.alias.aliasname : undefined;
  return typeof alias === "string" ? alias : "";
}

function relationKind(rv: RangeVar, scope: Scope): Binding["kind"] {
  const sameName = rv.relname === scope.name;
  const sameSchema = rv.schemaname === undefined || scope.schema === undefined || rv.schemaname === scope.schema;
  if (sameName && sameSchema) return "copy";
  if (rv.schemaname === undefined && rv.relname !== undefined && scope.derivedCtes.has(rv.relname)) return "derived";
  return "other";
}

interface Cte {
  name: string;
  query: Node | undefined;
}

/** Every CTE in the statement (scoping is not followed: a name derived anywhere is derived everywhere). */
function commonTableExprs(root: Node): Cte[] {
  const out: Cte[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(walk);
      return;
    }
    if (!isObject(value)) return;
    const cte = nodeAs(value, "CommonTableExpr");
    if (cte?.ctename !== undefined) out.push({ name: cte.ctename, query: cte.ctequery });
    for (const key in value) walk(value[key]);
  };
  walk(root);
  return out;
}

/** CTEs whose rows may be the target's own rows: a SELECT yielding an unrestricted copy's columns, or a write whose tree names the relation. */
function derivedCtes(ctes: readonly Cte[], scope: Scope): ReadonlySet<string> {
  const derived = new Set<string>();
  for (let changed = ctes.length > 0; changed; ) {
    changed = false;
    for (const cte of ctes) {
      if (derived.has(cte.name)) continue;
      // a scope of its own: what is derived grows as this loop goes
      const local: Scope = { name: scope.name, schema: scope.schema, derivedCtes: new Set(derived), steps: scope.steps, frames: new Map() };
      const isDerived = nodeAs(cte.query, "SelectStmt") !== undefined
        ? refs(cte.query, neutral(local)).copy.size > 0
        : namesRelation(cte.query, scope, derived);
      scope.steps = local.steps;
      if (isDerived) {
        derived.add(cte.name);
        changed = true;
      }
    }
  }
  return derived;
}

function namesRelation(value: unknown, scope: Scope, derived: ReadonlySet<string>): boolean {
  if (Array.isArray(value)) return value.some((v) => namesRelation(v, scope, derived));
  if (!isObject(value)) return false;
  const kind = kindOf(value);
  const rv = kind === "RangeVar" ? (value.RangeVar as RangeVar) : kind === undefined && typeof value.relname === "string" ? (value as RangeVar) : undefined;
  if (rv !== undefined) return relationKind(rv, { ...scope, derivedCtes: derived }) !== "other";
  return Object.values(value).some((v) => namesRelation(v, scope, derived));
}

function step(scope: Scope): void {
  if (++scope.steps > STEP_BUDGET) throw new TooComplex();
}

// ---- conditions

/** Does `expr`, read with `positive` polarity (false under an odd number of NOTs), restrict rows? */
function counts(expr: Node | undefined, positive: boolean, f: Frame): boolean {
  if (expr === undefined) return false;
  const memo = f.counted.get(expr);
  const known = memo?.[positive ? 0 : 1];
  if (known !== undefined) return known;
  step(f.scope);
  const result = countsUncached(expr, positive, f);
  const slot = memo ?? [undefined, undefined];
  slot[positive ? 0 : 1] = result;
  f.counted.set(expr, slot);
  return result;
}

function countsUncached(expr: Node, positive: boolean, f: Frame): boolean {
  if (nodeAs(expr, "CurrentOfExpr")) return true;
  if (nodeAs(expr, "A_Const") || nodeAs(expr, "ParamRef")) return false;
  const bool = nodeAs(expr, "BoolExpr");
  if (bool) return boolCounts(bool, positive, f);
  const test = nodeAs(expr, "BooleanTest");
  if (test) return booleanTestCounts(test, positive, f);
  const nullTest = nodeAs(expr, "NullTest");
  if (nullTest) return nullTestCounts(nullTest.arg, f);
  const cast = nodeAs(expr, "TypeCast");
  if (cast) return counts(cast.arg, positive, f);
  const aexpr = nodeAs(expr, "A_Expr");
  if (aexpr) return aexprCounts(aexpr, positive, f);
  const sublink = nodeAs(expr, "SubLink");
  if (sublink) return sublinkCounts(sublink, positive, f);
  return leafCounts([expr], f);
}

function boolCounts(bool: BoolExpr, positive: boolean, f: Frame): boolean {
  const args = bool.args ?? [];
  if (bool.boolop === "NOT_EXPR") return counts(args[0], !positive, f);
  const conjunction = (bool.boolop === "AND_EXPR") === positive;
  return conjunction ? args.some((a) => counts(a, positive, f)) : args.length > 0 && args.every((a) => counts(a, positive, f));
}

function booleanTestCounts(test: BooleanTest, positive: boolean, f: Frame): boolean {
  switch (test.booltesttype) {
    case "IS_TRUE":
    case "IS_NOT_FALSE":
      return counts(test.arg, positive, f);
    case "IS_FALSE":
    case "IS_NOT_TRUE":
      return counts(test.arg, !positive, f);
    default:
      // IS [NOT] UNKNOWN is a null test on a boolean
      return nullTestCounts(test.arg, f);
  }
}

/**
 * IS [NOT] NULL / UNKNOWN counts only on a plain column (`deleted_at IS NULL`). Over a condition
 * or an expression it tests whether the operands are null, not the condition: `(id = 5) IS NOT
 * NULL` and `coalesce(x, 0) IS NOT NULL` hold for every row (or none) whatever the values.
 */
function nullTestCounts(arg: Node | undefined, f: Frame): boolean {
  let inner = arg;
  for (let cast = nodeAs(inner, "TypeCast"); cast; cast = nodeAs(inner, "TypeCast")) inner = cast.arg;
  return inner !== undefined && nodeAs(inner, "ColumnRef") !== undefined && leafCounts([inner], f);
}

function aexprCounts(e: A_Expr, positive: boolean, f: Frame): boolean {
  const list = nodeAs(e.rexpr, "List")?.items ?? [];
  const op = nodeAs(e.name?.[0], "String")?.sval;
  if (e.kind === "AEXPR_IN" && e.lexpr) {
    // `x IN (a, b)` is `x = a OR x = b`; `x NOT IN (a, b)` is `x <> a AND x <> b`
    const disjunction = (op === "=") === positive;
    const each = list.map((item) => leafCounts([e.lexpr as Node, item], f));
    return disjunction ? each.length > 0 && each.every(Boolean) : each.some(Boolean);
  }
  if ((e.kind === "AEXPR_BETWEEN" || e.kind === "AEXPR_NOT_BETWEEN") && e.lexpr) {
    // `x BETWEEN a AND b` is `x >= a AND x <= b`; NOT BETWEEN is the OR of the negations
    const disjunction = (e.kind === "AEXPR_NOT_BETWEEN") === positive;
    const each = list.map((bound) => leafCounts([e.lexpr as Node, bound], f));
    return disjunction ? each.length > 0 && each.every(Boolean) : each.some(Boolean);
  }
  const sides = [e.lexpr, ...(list.length > 0 ? list : [e.rexpr])].filter((s): s is Node => s !== undefined);
  return leafCounts(sides, f);
}

/**
 * EXISTS counts as far as its subquery's WHERE restricts the target (its correlation, with the
 * subquery's own relations in scope): `EXISTS (SELECT id)` and `EXISTS (SELECT 1 FROM t t2
 * WHERE t2.id = t.id)` hold for every row. `x IN (SELECT …)` and the like are comparisons.
 */
function sublinkCounts(link: SubLink, positive: boolean, f: Frame): boolean {
  if (link.subLinkType === "EXISTS_SUBLINK") {
    const select = nodeAs(link.subselect, "SelectStmt");
    if (select === undefined || isSetOperation(select) || select.valuesLists !== undefined) return false;
    return counts(select.whereClause, positive, innerFrame(select, f));
  }
  return leafCounts([link.testexpr, link.subselect].filter((s): s is Node => s !== undefined), f);
}

/**
 * A predicate over `sides` restricts when it references a target column, no column of the
 * target (or of a copy of it) appears on two sides, and no boolean condition nested inside it
 * fails to restrict.
 */
function leafCounts(sides: readonly Node[], f: Frame): boolean {
  const seen = new Set<string>();
  let any = false;
  let star = false;
  let target = false;
  for (const side of sides) {
    const r = refs(side, f);
    const columns = r.copy.size === 0 ? r.target : r.target.size === 0 ? r.copy : new Set([...r.target, ...r.copy]);
    if (columns.size === 0) continue;
    if (star || (any && columns.has("*"))) return false;
    for (const c of columns) if (seen.has(c)) return false;
    for (const c of columns) seen.add(c);
    star ||= columns.has("*");
    any = true;
    target ||= r.target.size > 0;
  }
  return target && sides.every((s) => nestedConditionsCount(s, f));
}

/** `coalesce(id = 5 OR true, false)`: a condition or operator nested in an expression must restrict both ways. */
function nestedConditionsCount(value: unknown, f: Frame): boolean {
  if (Array.isArray(value)) return value.every((v) => nestedConditionsCount(v, f));
  if (!isObject(value)) return true;
  const kind = kindOf(value);
  if (kind === "SubLink" || kind === "SelectStmt") return true;
  if (kind === "BoolExpr" || kind === "BooleanTest" || kind === "NullTest" || kind === "A_Expr") {
    return counts(value as Node, true, f) && counts(value as Node, false, f);
  }
  return Object.values(value).every((v) => nestedConditionsCount(v, f));
}

// ---- column references

/** The target's and copies' columns an expression references; a subquery's WHERE only when it restricts (its correlation). */
function refs(value: unknown, f: Frame): Refs {
  if (Array.isArray(value)) return union(value.map((v) => refs(v, f)));
  if (!isObject(value)) return NONE;
  const kind = kindOf(value);
  if (kind !== undefined && LEAVES.has(kind)) return NONE;
  const ref = nodeAs(value, "ColumnRef");
  if (ref) return columnRefs(ref, f);
  const known = f.referenced.get(value);
  if (known !== undefined) return known;
  step(f.scope);
  const select = nodeAs(value, "SelectStmt");
  const result = select ? selectRefs(select, f) : union(Object.values(value).map((v) => refs(v, f)));
  f.referenced.set(value, result);
  return result;
}

function selectRefs(select: SelectStmt, f: Frame): Refs {
  if (isSetOperation(select)) return union([select.larg, select.rarg].map((s) => (s === undefined ? NONE : selectRefs(s, f))));
  const inner = innerFrame(select, f);
  const parts: Refs[] = [];
  for (const [key, child] of Object.entries(select as JsonObject)) {
    if (key !== "whereClause" && key !== "withClause") parts.push(refs(child, inner));
  }
  if (counts(select.whereClause, true, inner)) parts.push(refs(select.whereClause, inner));
  return union(parts);
}

function columnRefs(ref: ColumnRef, f: Frame): Refs {
  const fields = (ref.fields ?? []).map((x) => nodeAs(x, "String")?.sval ?? "*");
  const column = fields[fields.length - 1];
  const qualifier = fields[fields.length - 2];
  if (column === undefined || SYSTEM_COLUMNS.has(column)) return NONE;
  if (qualifier === undefined) {
    // a relation's name alone is its whole row (`WHERE t IS NOT NULL`, `(v).id`); where a column has that name,
    // PostgreSQL reads the column, and judging it as the whole row can only judge the condition unrestricted
    if (fields.length === 1 && f.target.has(column)) return { target: new Set(["*"]), copy: new Set() };
    if (fields.length === 1 && (f.copies.has(column) || f.derived.has(column))) return { target: new Set(), copy: new Set(["*"]) };
    switch (f.unqualified) {
      case "target": return { target: new Set([column]), copy: new Set() };
      case "copy": return { target: new Set(), copy: new Set([column]) };
      case "derived": return { target: new Set(), copy: new Set(["*"]) };
    }
    return NONE;
  }
  if (f.target.has(qualifier)) return { target: new Set([column]), copy: new Set() };
  if (f.copies.has(qualifier)) return { target: new Set(), copy: new Set([column]) };
  if (f.derived.has(qualifier)) return { target: new Set(), copy: new Set(["*"]) };
  return NONE;
}

function union(all: readonly Refs[]): Refs {
  const some = all.filter((r) => r.target.size > 0 || r.copy.size > 0);
  if (some.length <= 1) return some[0] ?? NONE;
  return { target: new Set(some.flatMap((r) => [...r.target])), copy: new Set(some.flatMap((r) => [...r.copy])) };
}

function isSetOperation(select: SelectStmt): boolean {
  return select.op !== undefined && select.op !== "SETOP_NONE";
}

// `sql.has_where`: does an UPDATE/DELETE/MERGE condition (or an upsert's) restrict the target's
// rows whatever the literal values are? Only column references decide; constants and parameters
// never do, so `WHERE 1=1` and `WHERE 1=2` are both "no WHERE", and facts stay independent of
// literals.
//
// A condition counts when it references a column of the target relation, except:
// - OR counts only if every branch counts; AND counts if any branch counts; NOT flips the two
//   (De Morgan), so `NOT (id = 5 AND 1=2)` does not count; `x IS NOT TRUE` is `NOT x OR x IS
//   NULL` (and `x IS NOT FALSE` likewise), whose null test must count too;
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
// - a null test counts only on a plain column (`deleted_at IS NULL`): over a condition, an
//   expression or a whole row (`(id = 5) IS NOT NULL`, `coalesce(x, 0) IS NULL`, `t IS NULL`)
//   it tests no row's values; IS [NOT] DISTINCT FROM likewise counts only between plain columns
//   and values that do not read the target;
// - a column counts only where it reaches the value compared: a condition nested in an
//   expression hides it (`(id = 5) IN (true, false)`, `coalesce(true, id = 5)`), and so do what
//   a CASE chooses by, COALESCE's later arguments and what a subquery reads outside its select
//   list, except the correlation of a subquery compared as a whole (`5 IN (SELECT … WHERE
//   u.tid = t.id)`) that yields no row where its WHERE keeps none, and where no row fails the
//   predicate (not `5 NOT IN (SELECT …)`, `5 = ALL (SELECT …)`);
// - EXISTS counts only as far as its subquery's WHERE restricts the target (correlation), and
//   not at all over a subquery that may yield a row whatever its WHERE (an aggregate, HAVING);
// - with FROM/USING (and always in MERGE and ON CONFLICT) an unqualified column may belong to
//   another relation, so only columns qualified by the target's name or alias count; where a FROM
//   item may be a copy under other column names, an unqualified column is read as that item's;
// - `WHERE CURRENT OF cursor` counts.
// An upsert (INSERT … ON CONFLICT DO UPDATE) updates the rows its proposed rows conflict with:
// restricted when those come from a VALUES list (no call but a known scalar builtin's outside a
// subquery, so no set-returning function expands a row) or DEFAULT VALUES, or when its DO
// UPDATE has a restricting WHERE; unrestricted from a query.
// This catches missing and constant-true conditions; it is not a proof of selectivity
// (`id >= 0` is a real WHERE). A condition too complex to judge within a fixed number of steps
// is unrestricted.

import type { A_Expr, BoolExpr, BooleanTest, CaseExpr, ColumnRef, DeleteStmt, InsertStmt, MergeStmt, Node, RangeVar, SelectStmt, SubLink, UpdateStmt } from "libpg-query";
import { isObject, kindOf, nameParts, nodeAs, type JsonObject } from "./ast.js";
import type { Write } from "./collect.js";
import { SCALAR_BUILTINS } from "./set-returning.js";

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
  /** SELECTs that may yield a row whatever their WHERE (see `mayYieldRegardless`) */
  grouped: Map<object, boolean>;
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
  nested: Map<object, boolean>;
  inner: Map<object, Frame>;
}

/** Columns an expression references: the target's, and copies' (`*`: any column). */
interface Refs {
  target: ReadonlySet<string>;
  copy: ReadonlySet<string>;
  /**
   * A target column reaches the expression's value other than through a condition nested in it:
   * in `coalesce(true, id = 5)` or `CASE WHEN id = 5 THEN true ELSE true END` it does not.
   */
  value: boolean;
}

const NONE: Refs = { target: new Set(), copy: new Set(), value: false };

/**
 * Operators that compute a value from their operands: no PostgreSQL builtin of that name and
 * arity returns a boolean (arithmetic, concatenation, bitwise, JSON access, distance; `<#>`,
 * `<=>`, `<+>` are pgvector's, `<<->`, `<->>` pg_trgm's). Any other may be a condition.
 */
const VALUE_OPERATORS = new Set(["+", "-", "*", "/", "%", "^", "||", "&", "|", "#", "->", "->>", "#>", "#>>", "#-", "<->", "##", "<#>", "<=>", "<+>", "<<->", "<->>"]);
const PREFIX_VALUE_OPERATORS = new Set(["+", "-", "~", "@", "|/", "||/", "!!", "@-@", "@@", "#"]);
/** SubLink kinds whose result is a boolean */
const CONDITION_SUBLINKS = new Set(["EXISTS_SUBLINK", "ALL_SUBLINK", "ANY_SUBLINK", "ROWCOMPARE_SUBLINK"]);

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

/** DEFAULT VALUES, or a VALUES list no function call may expand (outside subqueries, where it cannot): only known scalar builtins. */
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
    const parts = nameParts(nodeAs(value, "FuncCall")?.funcname) ?? [];
    const name = parts.at(-1);
    const schema = parts.at(-2);
    // no SET_RETURNING_BUILTINS name is a scalar builtin: every call but a known scalar one may return a set
    if (name === undefined || !SCALAR_BUILTINS.has(name) || (schema !== undefined && schema !== "pg_catalog")) return true;
  }
  return Object.values(value).some(callsSetReturning);
}

// ---- frames

function topFrame(rel: RangeVar | undefined, items: readonly Node[], ctes: readonly Cte[], unqualified?: "other", copies: readonly string[] = []): Frame {
  const name = rel?.relname ?? "";
  const scope: Scope = { name, schema: rel?.schemaname, derivedCtes: new Set(), steps: 0, frames: new Map(), grouped: new Map() };
  scope.derivedCtes = derivedCtes(ctes, scope);
  const base = frame(scope, new Set([rel?.alias?.aliasname ?? name]), new Set(copies), new Set(), "other");
  // a relation in the statement's own FROM/USING/MERGE source is restricted only by the statement's conditions
  const bindings = fromBindings(items, base);
  const derived = bindings.filter((b) => b.kind === "derived").map((b) => b.name);
  return frame(
    scope,
    base.target,
    new Set([...copies, ...bindings.filter((b) => b.kind === "copy").map((b) => b.name)]),
    new Set(derived),
    // an unqualified name may be a derived item's column (`FROM (SELECT id AS y FROM t) s WHERE t.id = y`); a copy's
    // would be ambiguous with the target's
    derived.length > 0 ? "derived" : unqualified ?? (items.length > 0 ? "other" : "target"),
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
  const made: Frame = { scope, target, copies, derived, unqualified, counted: new Map(), referenced: new Map(), nested: new Map(), inner: new Map() };
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
    // an unqualified name may be a derived item's column: any of the target's
    derived.length > 0 ? "derived" : free.length > 0 ? "copy" : "other",
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
      const local: Scope = { name: scope.name, schema: scope.schema, derivedCtes: new Set(derived), steps: scope.steps, frames: new Map(), grouped: scope.grouped };
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

/**
 * `x IS TRUE` is x where x is not null, `x IS FALSE` is `NOT x` there; `x IS NOT TRUE` is `NOT x
 * OR x IS NULL` and `x IS NOT FALSE` is `x OR x IS NULL`, and that null test must count too:
 * `(id = $1) IS NOT FALSE` holds for every row when $1 is null, `(SELECT false … WHERE u.tid =
 * t.id) IS NOT TRUE` for every row whatever the correlation.
 */
function booleanTestCounts(test: BooleanTest, positive: boolean, f: Frame): boolean {
  switch (test.booltesttype) {
    case "IS_TRUE":
      return positive ? counts(test.arg, true, f) : counts(test.arg, false, f) && nullTestCounts(test.arg, f);
    case "IS_NOT_FALSE":
      return positive ? counts(test.arg, true, f) && nullTestCounts(test.arg, f) : counts(test.arg, false, f);
    case "IS_FALSE":
      return positive ? counts(test.arg, false, f) : counts(test.arg, true, f) && nullTestCounts(test.arg, f);
    case "IS_NOT_TRUE":
      return positive ? counts(test.arg, false, f) && nullTestCounts(test.arg, f) : counts(test.arg, true, f);
    default:
      // IS [NOT] UNKNOWN is a null test on a boolean
      return nullTestCounts(test.arg, f);
  }
}

/**
 * IS [NOT] NULL / UNKNOWN counts only on a plain column (`deleted_at IS NULL`). Over a condition
 * or an expression it tests whether the operands are null, not the condition: `(id = 5) IS NOT
 * NULL` and `coalesce(x, 0) IS NOT NULL` hold for every row (or none) whatever the values. Over
 * a whole row (`t IS NULL`: every column is null) it holds for no row with a non-null column.
 */
function nullTestCounts(arg: Node | undefined, f: Frame): boolean {
  return arg !== undefined && plainColumn(arg, f) && leafCounts([arg], f);
}

/** A column reference (casts allowed) that is not a whole row. */
function plainColumn(expr: Node, f: Frame): boolean {
  const inner = uncast(expr);
  if (inner === undefined || nodeAs(inner, "ColumnRef") === undefined) return false;
  const r = refs(inner, f);
  return !r.target.has("*") && !r.copy.has("*");
}

/** `expr` without the casts around it. */
function uncast(expr: Node | undefined): Node | undefined {
  let inner = expr;
  for (let cast = nodeAs(inner, "TypeCast"); cast; cast = nodeAs(inner, "TypeCast")) inner = cast.arg;
  return inner;
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
  if (e.kind === "AEXPR_DISTINCT" || e.kind === "AEXPR_NOT_DISTINCT") {
    // a null test that compares: `t IS DISTINCT FROM NULL`, `coalesce(x, 0) IS DISTINCT FROM NULL` hold for every row,
    // so every side that reads the target or a copy must be a plain column
    const plain = (side: Node) => plainColumn(side, f) || isEmpty(refs(side, f));
    if (!sides.every(plain)) return false;
  }
  // `x = ANY (ARRAY(SELECT …))` is false where the array is empty; `x <> ALL (…)` is true there
  const emptyFails = (e.kind === "AEXPR_OP_ANY" && positive) || (e.kind === "AEXPR_OP_ALL" && !positive);
  return leafCounts(sides, f, emptyFails ? e.rexpr : undefined);
}

/**
 * EXISTS counts as far as its subquery's WHERE restricts the target (its correlation, with the
 * subquery's own relations in scope): `EXISTS (SELECT id)` and `EXISTS (SELECT 1 FROM t t2
 * WHERE t2.id = t.id)` hold for every row. `x IN (SELECT …)` and the like are comparisons.
 */
function sublinkCounts(link: SubLink, positive: boolean, f: Frame): boolean {
  if (link.subLinkType === "EXISTS_SUBLINK") return ownWhereCounts(nodeAs(link.subselect, "SelectStmt"), positive, f);
  // no row makes `x IN (SELECT …)` false and a scalar subquery null, but `x op ALL (SELECT …)` and `x NOT IN (SELECT …)` true
  const emptyFails = link.subLinkType === "ANY_SUBLINK" ? positive : link.subLinkType === "ALL_SUBLINK" ? !positive : true;
  return leafCounts([link.testexpr, link.subselect].filter((s): s is Node => s !== undefined), f, emptyFails ? link.subselect : undefined);
}

/**
 * A predicate over `sides` restricts when a target column reaches the value of a side (not
 * through a condition nested in it; a subquery that is a side reaches it by its correlation), no
 * column of the target (or of a copy of it) appears on two sides, and no boolean condition
 * nested inside it fails to restrict. `emptyFails`: the side (a subquery or an ARRAY(…)) whose
 * yielding no row makes the predicate fail rather than hold.
 */
function leafCounts(sides: readonly Node[], f: Frame, emptyFails?: Node): boolean {
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
    target ||= r.value || correlated(side, f, side === emptyFails);
  }
  return target && sides.every((s) => nestedConditionsCount(s, f));
}

/**
 * A subquery that is a side (`x IN (SELECT …)`, `(SELECT …) = 5`, casts allowed) depends on the
 * target through its correlation: its own WHERE restricts the target, and it yields no row
 * where that WHERE holds for none — which fails the predicate for a scalar subquery (null), and
 * for the others (`IN`, `ANY`, `ALL`, `ARRAY(…)`) where `emptyFails` says so. A set operation can
 * yield rows whatever one branch's WHERE; so can an aggregate (`SELECT count(*) … WHERE …`; any
 * function call may be one), HAVING and a grouping set (`mayYieldRegardless`).
 */
function correlated(side: Node, f: Frame, emptyFails: boolean): boolean {
  let node = uncast(side);
  const link = nodeAs(node, "SubLink");
  if (link?.subLinkType === "EXPR_SUBLINK") node = link.subselect;
  else if (!emptyFails) return false;
  else if (link?.subLinkType === "ARRAY_SUBLINK") node = link.subselect;
  return ownWhereCounts(nodeAs(node, "SelectStmt"), true, f);
}

/**
 * A subquery's own WHERE, read with `positive` polarity, restricts the target (with the
 * subquery's relations in scope), and the subquery yields no row where it keeps none: not a set
 * operation, VALUES (no WHERE) or a query that may yield a row regardless (`mayYieldRegardless`).
 */
function ownWhereCounts(select: SelectStmt | undefined, positive: boolean, f: Frame): boolean {
  if (select === undefined || select.whereClause === undefined || isSetOperation(select) || mayYieldRegardless(select, f.scope)) return false;
  return counts(select.whereClause, positive, innerFrame(select, f));
}

/**
 * Whether a SELECT may yield a row however few rows its WHERE keeps: it has HAVING, a grouping
 * set (`GROUP BY ()`, `ROLLUP`, `CUBE`, `GROUPING SETS`), or no GROUP BY and maybe an aggregate,
 * which over no row still gives one (`count(*)`: any function call outside FROM and WHERE may be
 * one, in a nested subquery too). `GROUP BY x` makes no group from no row.
 */
function mayYieldRegardless(select: SelectStmt, scope: Scope): boolean {
  const known = scope.grouped.get(select);
  if (known !== undefined) return known;
  const groups = select.groupClause ?? [];
  let result: boolean;
  if (select.havingClause !== undefined || groups.some((g) => kindOf(g) === "GroupingSet")) result = true;
  else if (groups.length > 0) result = false;
  else result = Object.entries(select as JsonObject).some(([key, child]) => key !== "fromClause" && key !== "whereClause" && key !== "withClause" && callsFunction(child, scope));
  scope.grouped.set(select, result);
  return result;
}

function callsFunction(value: unknown, scope: Scope): boolean {
  if (Array.isArray(value)) return value.some((v) => callsFunction(v, scope));
  if (!isObject(value)) return false;
  step(scope);
  if (kindOf(value) === "FuncCall") return true;
  return Object.values(value).some((v) => callsFunction(v, scope));
}

/** `coalesce(id = 5 OR true, false)`: a condition or operator nested in an expression must restrict both ways, and so must what a CASE chooses by. */
function nestedConditionsCount(value: unknown, f: Frame): boolean {
  if (Array.isArray(value)) return value.every((v) => nestedConditionsCount(v, f));
  if (!isObject(value)) return true;
  const kind = kindOf(value);
  if (kind === "SubLink" || kind === "SelectStmt") return true;
  if (kind === "BoolExpr" || kind === "BooleanTest" || kind === "NullTest" || kind === "A_Expr") {
    return counts(value as Node, true, f) && counts(value as Node, false, f);
  }
  const known = f.nested.get(value);
  if (known !== undefined) return known;
  step(f.scope);
  const caseExpr = nodeAs(value, "CaseExpr");
  const result = (caseExpr === undefined || caseChooses(caseExpr, f)) && Object.values(value).every((v) => nestedConditionsCount(v, f));
  f.nested.set(value, result);
  return result;
}

/** Each WHEN of a CASE must pick by the row: `CASE WHEN true THEN true ELSE x END` is true for every row. */
function caseChooses(c: CaseExpr, f: Frame): boolean {
  return (c.args ?? []).every((w) => {
    const when = nodeAs(w, "CaseWhen")?.expr;
    if (when === undefined) return false;
    // `CASE x WHEN 5 …` compares x = 5
    return c.arg !== undefined ? leafCounts([c.arg, when], f) : counts(when, true, f) && counts(when, false, f);
  });
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
  const result = refsUncached(value, f);
  f.referenced.set(value, result);
  return result;
}

function refsUncached(value: JsonObject, f: Frame): Refs {
  const select = nodeAs(value, "SelectStmt");
  if (select) return selectRefs(select, f);
  const all = union(Object.values(value).map((v) => refs(v, f)));
  if (!all.value) return all;
  if (isCondition(value)) return hidden(all);
  // what a CASE yields is its results; what it chooses by is a condition (`CASE x WHEN 5` compares x = 5)
  const caseExpr = nodeAs(value, "CaseExpr");
  if (caseExpr) {
    const results = [...(caseExpr.args ?? []).map((w) => nodeAs(w, "CaseWhen")?.result), caseExpr.defresult];
    return results.some((r) => refs(r, f).value) ? all : hidden(all);
  }
  // COALESCE yields a later argument only where the first is null: `coalesce(true, x)` is true
  const coalesce = nodeAs(value, "CoalesceExpr");
  if (coalesce) return refs(coalesce.args?.[0], f).value ? all : hidden(all);
  return all;
}

/** A boolean condition: nested in an expression, the target columns it reads do not reach the expression's value. */
function isCondition(value: JsonObject): boolean {
  switch (kindOf(value)) {
    case "BoolExpr":
    case "BooleanTest":
    case "NullTest":
    case "CurrentOfExpr":
      return true;
    case "SubLink":
      return CONDITION_SUBLINKS.has(nodeAs(value, "SubLink")?.subLinkType ?? "");
    case "A_Expr": {
      const e = nodeAs(value, "A_Expr");
      if (e?.kind === "AEXPR_NULLIF") return false;
      if (e?.kind !== "AEXPR_OP") return true;
      const op = nameParts(e.name)?.at(-1) ?? "";
      return !(e.lexpr === undefined ? PREFIX_VALUE_OPERATORS : VALUE_OPERATORS).has(op);
    }
    default:
      return false;
  }
}

function hidden(r: Refs): Refs {
  return r.value ? { ...r, value: false } : r;
}

/** A SELECT's value is its select list (or VALUES rows); what its FROM, WHERE and the rest read stays hidden (see `correlated`). */
function selectRefs(select: SelectStmt, f: Frame): Refs {
  if (isSetOperation(select)) return union([select.larg, select.rarg].map((s) => (s === undefined ? NONE : selectRefs(s, f))));
  const inner = innerFrame(select, f);
  const parts: Refs[] = [];
  for (const [key, child] of Object.entries(select as JsonObject)) {
    if (key === "whereClause" || key === "withClause") continue;
    const r = refs(child, inner);
    parts.push(key === "targetList" || key === "valuesLists" ? r : hidden(r));
  }
  if (counts(select.whereClause, true, inner)) parts.push(hidden(refs(select.whereClause, inner)));
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
    if (fields.length === 1 && f.target.has(column)) return targetColumns("*");
    if (fields.length === 1 && (f.copies.has(column) || f.derived.has(column))) return copyColumns("*");
    switch (f.unqualified) {
      case "target": return targetColumns(column);
      case "copy": return copyColumns(column);
      case "derived": return copyColumns("*");
    }
    return NONE;
  }
  if (f.target.has(qualifier)) return targetColumns(column);
  if (f.copies.has(qualifier)) return copyColumns(column);
  if (f.derived.has(qualifier)) return copyColumns("*");
  return NONE;
}

function targetColumns(column: string): Refs {
  return { target: new Set([column]), copy: new Set(), value: true };
}

function copyColumns(column: string): Refs {
  return { target: new Set(), copy: new Set([column]), value: false };
}

function union(all: readonly Refs[]): Refs {
  const some = all.filter((r) => !isEmpty(r));
  if (some.length <= 1) return some[0] ?? NONE;
  return { target: new Set(some.flatMap((r) => [...r.target])), copy: new Set(some.flatMap((r) => [...r.copy])), value: some.some((r) => r.value) };
}

function isEmpty(r: Refs): boolean {
  return r.target.size === 0 && r.copy.size === 0;
}

function isSetOperation(select: SelectStmt): boolean {
  return select.op !== undefined && select.op !== "SETOP_NONE";
}

// One walk over a statement's tree: relations, called functions (and those DDL binds for the
// server to call later: named-functions.ts), operators and casts, the
// data-modifying statements it executes (the outer one, those in CTEs, COPY (query), EXPLAIN
// ANALYZE, and those PREPARE and DECLARE store to run later; an INSERT … ON CONFLICT DO UPDATE
// is an update), and what it stores (stores.ts).

import type {
  CallStmt, ClosePortalStmt, CommentStmt, DeallocateStmt, DeclareCursorStmt, DeleteStmt, DiscardStmt, DropStmt, ExecuteStmt, FetchStmt, FuncCall, InsertStmt, JsonFuncExpr, MergeStmt, Node,
  ObjectType, PrepareStmt, RangeVar, UpdateStmt, WithClause,
} from "libpg-query";
import { explainExecutes } from "./command.js";
import { isObject, kindOf, nameParts, nodeAs, type JsonObject } from "./ast.js";
import { addAttributes, addCast, addOperators } from "./indirect.js";
import { boundFunctions } from "./named-functions.js";
import { objectNameRelation, qualifiedNames, rangeVarNames } from "./names.js";
import { addRelation, cteScope, emptyFindings, enterNode, fieldScope, TOP_SCOPE, type StoreFindings, type StoreScope } from "./stores.js";

export type Write =
  | { kind: "insert" }
  | { kind: "update"; stmt: UpdateStmt }
  /** INSERT … ON CONFLICT DO UPDATE: an update of the rows its proposed rows conflict with */
  | { kind: "update"; onConflict: InsertStmt }
  | { kind: "delete"; stmt: DeleteStmt }
  | { kind: "merge"; stmt: MergeStmt };

export interface Collected {
  tables: Set<string>;
  functions: Set<string>;
  operators: Set<string>;
  casts: Set<string>;
  /** names `t.f` may call as `f(t)` */
  attributes: Set<string>;
  writes: Write[];
  store: StoreFindings;
  /** the statement has a WITH clause */
  hasCte: boolean;
  /** prepared statements and cursors it may create, replace or drop (`*`: every one) */
  statementNames: Set<string>;
  portalNames: Set<string>;
  /** prepared statements EXECUTE runs (the grammar requires the name: empty only without EXECUTE) */
  executes: Set<string>;
  /** cursors FETCH and MOVE read (the grammar requires the name: empty only without FETCH or MOVE) */
  fetches: Set<string>;
}

interface Context {
  /** CTE names a FROM item may refer to here */
  ctes: ReadonlySet<string>;
  /** false inside a statement only stored for later whose writes are not counted (DEFERRED: CREATE VIEW; plain EXPLAIN) */
  executed: boolean;
  store: StoreScope;
}

/** Object kinds whose names are relations (pg_class entries). */
const RELATION_OBJECTS: ReadonlySet<ObjectType> = new Set<ObjectType>([
  "OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE", "OBJECT_SEQUENCE", "OBJECT_INDEX",
]);

/**
 * Statements whose inner statement is stored, not run, when they execute. PREPARE and DECLARE
 * are not among them: EXECUTE and FETCH, which run theirs, name nothing, so a write they store
 * is reported when it is stored. Nor are CREATE RULE and a SQL-standard function body (`BEGIN
 * ATOMIC … END`, `RETURN …`) for the same reason: the INSERT that fires a rule's `DELETE FROM
 * sessions`, or the `SELECT wipe()` that runs a function's, names neither. A view's query
 * cannot write.
 */
const DEFERRED = new Set(["ViewStmt"]);

/** Fields that hold FROM items, where an unqualified name may be a CTE. */
const FROM_FIELDS = new Set(["fromClause", "usingClause", "sourceRelation"]);

export function collect(stmt: Node): Collected {
  const out: Collected = {
    tables: new Set(), functions: new Set(), operators: new Set(), casts: new Set(), attributes: new Set(), writes: [], store: emptyFindings(), hasCte: false,
    statementNames: new Set(), portalNames: new Set(), executes: new Set(), fetches: new Set(),
  };
  visit(stmt, { ctes: new Set(), executed: true, store: TOP_SCOPE }, false, out);
  return out;
}

function visit(value: unknown, ctx: Context, inFrom: boolean, out: Collected): void {
  if (Array.isArray(value)) {
    for (const item of value) visit(item, ctx, inFrom, out);
    return;
  }
  if (!isObject(value)) return;
  const kind = kindOf(value);
  if (kind === undefined) {
    visitBody(value, undefined, ctx, inFrom, out);
    return;
  }
  const body = value[kind];
  if (isObject(body)) visitBody(body, kind, ctx, inFrom, out);
}

function visitBody(body: JsonObject, kind: string | undefined, ctx: Context, inFrom: boolean, out: Collected): void {
  // A bare RangeVar (InsertStmt.relation, IntoClause.rel …) has no wrapper; only RangeVar has `relname` in raw trees.
  if (kind === "RangeVar" || (kind === undefined && typeof body.relname === "string")) {
    const relname = body.relname;
    const isCte = inFrom && body.schemaname === undefined && typeof relname === "string" && ctx.ctes.has(relname);
    if (isCte) return;
    const names = rangeVarNames(body as RangeVar);
    for (const name of names) out.tables.add(name);
    addRelation(names, ctx.store, out.store);
    return;
  }
  // CALL holds its FuncCall bare
  const call = kind === "FuncCall" ? (body as FuncCall) : kind === "CallStmt" ? (body as CallStmt).funccall : undefined;
  if (call) for (const name of qualifiedNames(nameParts(call.funcname) ?? [])) out.functions.add(name);
  if (kind !== undefined) {
    addOperators(kind, body, out.operators);
    addCast(kind, body, out.casts);
    addAttributes(kind, body, out.attributes);
    const syntax = syntaxFunction(kind, body);
    if (syntax !== undefined) out.functions.add(syntax);
    // DDL binding a function for the server to call later (CREATE OPERATOR … FUNCTION = f): reported as a call of it
    for (const parts of boundFunctions(kind, body)) for (const name of qualifiedNames(parts)) out.functions.add(name);
    addSessionNames(kind, body, out);
  }
  if (kind === "DropStmt") addObjectRelations(body as DropStmt, out);
  if (kind === "CommentStmt") addCommentRelation(body as CommentStmt, out);
  if (ctx.executed) recordWrite(kind, body, out);

  let inner = ctx;
  const entered = kind === undefined ? undefined : enterNode(kind, body, ctx.store, out.store);
  if (entered !== undefined && entered.scope !== ctx.store) inner = { ...inner, store: entered.scope };
  if (kind !== undefined && DEFERRED.has(kind)) inner = { ...inner, executed: false };
  if (kind === "ExplainStmt" && !explainExecutes(body.options as Node[] | undefined)) inner = { ...inner, executed: false };
  if (isObject(body.withClause)) inner = visitWith(body.withClause as WithClause, inner, out);

  for (const [field, child] of Object.entries(body)) {
    // `FOR UPDATE OF u` names FROM items (often aliases) already seen
    if (field === "withClause" || field === "lockedRels") continue;
    const childInFrom = FROM_FIELDS.has(field) || (kind === "JoinExpr" && inFrom && (field === "larg" || field === "rarg"));
    const store = fieldScope(kind, field, inner.store, entered?.target);
    visit(child, store === inner.store ? inner : { ...inner, store }, childInFrom, out);
  }
}

/** Walks the CTE bodies with the names each may see; returns the context of the statement they belong to. */
function visitWith(clause: WithClause, ctx: Context, out: Collected): Context {
  const ctes = clause.ctes ?? [];
  const names = ctes.map((c) => nodeAs(c, "CommonTableExpr")?.ctename).filter((n): n is string => n !== undefined);
  const all = new Set([...ctx.ctes, ...names]);
  out.hasCte = true;
  const store = cteScope(ctx.store);
  ctes.forEach((c, i) => {
    // Without RECURSIVE a CTE sees only those before it: `WITH users AS (SELECT * FROM users)` reads the table.
    const visible = clause.recursive ? all : new Set([...ctx.ctes, ...names.slice(0, i)]);
    visit(nodeAs(c, "CommonTableExpr")?.ctequery, { ...ctx, ctes: visible, store }, false, out);
  });
  return { ...ctx, ctes: all };
}

/**
 * The names of prepared statements and cursors a statement may create, replace or drop. DO and
 * CALL run code the facts do not see into, which may do any of that (`EXECUTE 'prepare …'`, a
 * PL/pgSQL OPEN or CLOSE of a refcursor): every name.
 */
function addSessionNames(kind: string, body: JsonObject, out: Collected): void {
  switch (kind) {
    case "PrepareStmt":
      out.statementNames.add((body as PrepareStmt).name ?? "*");
      break;
    case "DeallocateStmt":
      out.statementNames.add((body as DeallocateStmt).name ?? "*");
      break;
    case "ExecuteStmt":
      if ((body as ExecuteStmt).name !== undefined) out.executes.add((body as ExecuteStmt).name!);
      break;
    case "FetchStmt":
      // FETCH and MOVE (ismove) both name the cursor; the grammar always requires the name
      if ((body as FetchStmt).portalname !== undefined) out.fetches.add((body as FetchStmt).portalname!);
      break;
    case "DeclareCursorStmt":
      out.portalNames.add((body as DeclareCursorStmt).portalname ?? "*");
      break;
    case "ClosePortalStmt":
      out.portalNames.add((body as ClosePortalStmt).portalname ?? "*");
      break;
    case "DiscardStmt":
      // DISCARD ALL deallocates every statement and closes every cursor; PLANS, SEQUENCES and TEMP touch no name
      if ((body as DiscardStmt).target === "DISCARD_ALL") everyName(out);
      break;
    case "DoStmt":
    case "CallStmt":
      everyName(out);
      break;
  }
}

function everyName(out: Collected): void {
  out.statementNames.add("*");
  out.portalNames.add("*");
}

/**
 * SQL/JSON syntax the parser (PostgreSQL 18's grammar) reads as its own node, where a PostgreSQL
 * 15 server, which has no such syntax, calls a function of that name — a user's `json_scalar`
 * runs. Reported as the function name either way.
 */
const SYNTAX_FUNCTIONS: Readonly<Record<string, string>> = {
  JsonScalarExpr: "json_scalar", JsonSerializeExpr: "json_serialize", JsonParseExpr: "json",
  JsonObjectConstructor: "json_object", JsonArrayConstructor: "json_array", JsonArrayQueryConstructor: "json_array",
  JsonObjectAgg: "json_objectagg", JsonArrayAgg: "json_arrayagg", JsonTable: "json_table", MergeSupportFunc: "merge_action",
};

const JSON_FUNC_NAMES: Readonly<Record<string, string>> = {
  JSON_VALUE_OP: "json_value", JSON_QUERY_OP: "json_query", JSON_EXISTS_OP: "json_exists", JSON_TABLE_OP: "json_table",
};

function syntaxFunction(kind: string, body: JsonObject): string | undefined {
  if (kind === "JsonFuncExpr") return JSON_FUNC_NAMES[String((body as JsonFuncExpr).op)] ?? "json_value";
  return Object.hasOwn(SYNTAX_FUNCTIONS, kind) ? SYNTAX_FUNCTIONS[kind] : undefined;
}

function recordWrite(kind: string | undefined, body: JsonObject, out: Collected): void {
  if (kind === "InsertStmt") {
    const insert = body as InsertStmt;
    out.writes.push(insert.onConflictClause?.action === "ONCONFLICT_UPDATE" ? { kind: "update", onConflict: insert } : { kind: "insert" });
  }
  else if (kind === "UpdateStmt") out.writes.push({ kind: "update", stmt: body as UpdateStmt });
  else if (kind === "DeleteStmt") out.writes.push({ kind: "delete", stmt: body as DeleteStmt });
  else if (kind === "MergeStmt") out.writes.push({ kind: "merge", stmt: body as MergeStmt });
}

function addObjectRelations(stmt: DropStmt, out: Collected): void {
  if (!stmt.removeType || !RELATION_OBJECTS.has(stmt.removeType)) return;
  for (const object of stmt.objects ?? []) {
    const parts = nameParts(nodeAs(object, "List")?.items);
    if (parts) for (const name of objectNameRelation(parts)) out.tables.add(name);
  }
}

function addCommentRelation(stmt: CommentStmt, out: Collected): void {
  const parts = nameParts(nodeAs(stmt.object, "List")?.items);
  if (!parts || !stmt.objtype) return;
  // COMMENT ON COLUMN [schema.]table.column names the table before the column
  const relation = stmt.objtype === "OBJECT_COLUMN" ? parts.slice(0, -1) : RELATION_OBJECTS.has(stmt.objtype) ? parts : [];
  for (const name of objectNameRelation(relation)) out.tables.add(name);
}

// Functions a statement names without calling them: DDL that binds a function by name to
// something that runs it later, with no FuncCall in any tree the gateway sees then. `CREATE
// AGGREGATE a(text, boolean) (SFUNC = set_config, …)` makes `SELECT a('off', false)` a call of
// set_config; `CREATE OPERATOR ##> (…, FUNCTION = ts_rewrite)` makes `x ##> 'select …'` run SQL
// given as text. So a statement that names a refused builtin (set_config, or one of
// hidden-queries.ts) where the server will call it is refused like a call of it, whatever the
// policy. Judged by the name's last part, however it is qualified, as calls are; and a string
// given where the grammar takes a function name (`SFUNC = 'set_config'`) is that name too.
//
// Covered: definition entries of CREATE AGGREGATE / OPERATOR / TYPE / TEXT SEARCH … (every
// entry but the values INITCOND, MINITCOND and DEFAULT, whatever its name: a type spelled like
// one of these builtins is refused with them), ALTER OPERATOR|TYPE … SET (…), CREATE TYPE … AS RANGE (…); the function of CREATE
// CAST, CREATE TRIGGER, CREATE EVENT TRIGGER, CREATE CONVERSION, CREATE TRANSFORM; the handlers
// of CREATE LANGUAGE, CREATE|ALTER FOREIGN DATA WRAPPER, CREATE ACCESS METHOD; the items of
// CREATE OPERATOR CLASS and ALTER OPERATOR FAMILY; a function's SUPPORT function; renaming one
// of them (ALTER FUNCTION set_config RENAME TO x leaves the builtin under a name no rule knows);
// and a LANGUAGE internal or C function bound to one of their C symbols (the builtin under a
// new name). Not covered, because not visible in any text: what an opaque body (a string, a
// PL/pgSQL block) calls — the proxy's pipeline barrier keeps that from changing how a statement
// already sent is read (runtime/postgres/README.md).

import type { Node } from "libpg-query";
import { isObject, nameParts, nodeAs, type JsonObject } from "./ast.js";
import { hiddenQueryReason } from "./hidden-queries.js";

const SET_CONFIG = "set_config";
const SET_CONFIG_REASON = "it changes settings the gateway reads statements by (standard_conforming_strings, client_encoding, search_path, role)";

/**
 * The C symbols of the refused builtins (prosrc of PostgreSQL 15's internal functions, and the
 * contrib modules' `AS 'MODULE_PATHNAME', '…'`), with the SQL name each stands for.
 */
const C_SYMBOLS: ReadonlyMap<string, string> = new Map([
  ["set_config_by_name", "set_config"],
  ["ts_stat1", "ts_stat"],
  ["ts_stat2", "ts_stat"],
  ["tsquery_rewrite", "ts_rewrite"],
  ["tsquery_rewrite_query", "ts_rewrite"],
  ["dblink_record", "dblink"],
  ["crosstab_hash", "crosstab"],
  ["connectby_text", "connectby"],
  ["connectby_text_serial", "connectby"],
  ["get_raw_page_fork", "get_raw_page"],
  ["get_raw_page_1_9", "get_raw_page"],
  ["get_raw_page_fork_1_9", "get_raw_page"],
  ["bt_page_items_1_9", "bt_page_items"],
  ["bt_page_items_bytea", "bt_page_items"],
]);

/** Object kinds a RenameStmt renames that are functions. */
const FUNCTION_OBJECTS = new Set(["OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE", "OBJECT_AGGREGATE"]);

/** Languages whose AS clause names a C symbol. */
const C_LANGUAGES = new Set(["internal", "c"]);

interface Reference {
  /** the name as written, every part (a string given for a name is one part) */
  parts: string[];
  /** where: the definition entry, or the clause */
  where: string;
  /** the server calls (or, renamed, keeps callable) a function of this name: not a type, operator or value */
  binds: boolean;
}

/** Why the statement node may not run, or undefined: it names no refused builtin where the server will call it. */
export function namedFunctionProblem(kind: string, body: JsonObject): string | undefined {
  const label = LABELS[kind];
  if (label === undefined) return undefined;
  for (const ref of references(kind, body)) {
    const name = ref.parts.at(-1)!;
    const why = refusedReason(name);
    if (why !== undefined && kind === "RenameStmt") {
      return `renaming ${name}() is not allowed through the gateway: it would go on under a name the gateway does not refuse, and ${why}`;
    }
    if (why !== undefined) {
      return `${label(body)} naming ${name}() (${ref.where}) is not allowed through the gateway: the server would call it later with no call the gateway sees, and ${why}`;
    }
  }
  const symbol = kind === "CreateFunctionStmt" ? cSymbol(body) : undefined;
  const builtin = symbol === undefined ? undefined : (C_SYMBOLS.get(symbol) ?? (refusedReason(symbol) !== undefined ? symbol : undefined));
  if (builtin !== undefined) {
    return `a function bound to the C symbol ${symbol} (${builtin}) is not allowed through the gateway: it is ${builtin}() under another name, and ${refusedReason(builtin)!}`;
  }
  return undefined;
}

/**
 * The functions a DDL statement node binds for the server to call later (or renames), as name
 * parts (`collect.ts` reports them in the `functions` fact like calls): the function-valued
 * definition entries (SFUNC, FINALFUNC, FUNCTION, RESTRICT, INPUT …, whatever their value's
 * spelling: a string is one name), a cast's, trigger's, conversion's, transform's function, the
 * handlers of languages, foreign-data wrappers and access methods, an operator class's FUNCTION
 * items, a SUPPORT function, a renamed function, and a LANGUAGE internal or C function's C symbol
 * (with the refused builtin it stands for, when C_SYMBOLS knows it). Types, operators and values
 * named in the same statements are not functions and are left out.
 */
export function boundFunctions(kind: string, body: JsonObject): string[][] {
  if (LABELS[kind] === undefined) return [];
  const out = references(kind, body).filter((ref) => ref.binds && ref.parts.at(-1) !== "").map((ref) => ref.parts);
  const symbol = kind === "CreateFunctionStmt" ? cSymbol(body) : undefined;
  if (symbol !== undefined) {
    out.push([symbol]);
    const builtin = C_SYMBOLS.get(symbol);
    if (builtin !== undefined) out.push([builtin]);
  }
  return out;
}

/** why calling `name` is refused (lexer-settings.ts, hidden-queries.ts), or undefined */
function refusedReason(name: string): string | undefined {
  return name === SET_CONFIG ? SET_CONFIG_REASON : hiddenQueryReason(name);
}

const LABELS: Readonly<Record<string, (body: JsonObject) => string>> = {
  DefineStmt: (b) => `CREATE ${String(b.kind ?? "OBJECT_").replace(/^OBJECT_/, "").replace(/^TS/, "TEXT SEARCH ")}`,
  AlterOperatorStmt: () => "ALTER OPERATOR",
  AlterTypeStmt: () => "ALTER TYPE",
  CreateRangeStmt: () => "CREATE TYPE … AS RANGE",
  CreateFunctionStmt: () => "CREATE FUNCTION",
  AlterFunctionStmt: () => "ALTER FUNCTION",
  CreateCastStmt: () => "CREATE CAST",
  CreateTrigStmt: () => "CREATE TRIGGER",
  CreateEventTrigStmt: () => "CREATE EVENT TRIGGER",
  CreateOpClassStmt: () => "CREATE OPERATOR CLASS",
  AlterOpFamilyStmt: () => "ALTER OPERATOR FAMILY",
  CreateConversionStmt: () => "CREATE CONVERSION",
  CreatePLangStmt: () => "CREATE LANGUAGE",
  CreateTransformStmt: () => "CREATE TRANSFORM",
  CreateFdwStmt: () => "CREATE FOREIGN DATA WRAPPER",
  AlterFdwStmt: () => "ALTER FOREIGN DATA WRAPPER",
  CreateAmStmt: () => "CREATE ACCESS METHOD",
  RenameStmt: () => "ALTER … RENAME",
};

function references(kind: string, body: JsonObject): Reference[] {
  const out: Reference[] = [];
  const add = (value: unknown, where: string, binds = true): void => {
    const parts = nameOf(value);
    if (parts !== undefined && parts.length > 0) out.push({ parts, where, binds });
  };
  /** `functions`: the entries whose value is a function's name (undefined: every entry) */
  const entries = (list: unknown, functions: ReadonlySet<string> | undefined, only?: ReadonlySet<string>): void => {
    if (!Array.isArray(list)) return;
    for (const item of list) {
      const entry = nodeAs(item, "DefElem");
      const name = entry?.defname?.toLowerCase();
      if (entry === undefined || name === undefined || VALUES.has(name)) continue;
      if (only === undefined || only.has(name)) add(entry.arg, name, functions === undefined || functions.has(name));
    }
  };
  switch (kind) {
    case "DefineStmt":
      entries(body.definition, FUNCTION_ENTRIES);
      break;
    case "AlterOperatorStmt":
    case "AlterTypeStmt":
      entries(body.options, FUNCTION_ENTRIES);
      break;
    case "CreateRangeStmt":
      entries(body.params, FUNCTION_ENTRIES);
      break;
    case "CreateFunctionStmt":
      entries(body.options, undefined, SUPPORT);
      break;
    case "AlterFunctionStmt":
      entries(body.actions, undefined, SUPPORT);
      break;
    case "CreateCastStmt":
      add(body.func, "WITH FUNCTION");
      break;
    case "CreateTrigStmt":
    case "CreateEventTrigStmt":
      add(body.funcname, "EXECUTE FUNCTION");
      break;
    case "CreateOpClassStmt":
    case "AlterOpFamilyStmt":
      for (const item of Array.isArray(body.items) ? body.items : []) {
        const opclassItem = nodeAs(item, "CreateOpClassItem");
        add(opclassItem?.name, opclassItem?.itemtype === OPCLASS_ITEM_FUNCTION ? "FUNCTION item" : "OPERATOR item", opclassItem?.itemtype === OPCLASS_ITEM_FUNCTION);
      }
      break;
    case "CreateConversionStmt":
      add(body.func_name, "FROM");
      break;
    case "CreatePLangStmt":
      add(body.plhandler, "HANDLER");
      add(body.plinline, "INLINE");
      add(body.plvalidator, "VALIDATOR");
      break;
    case "CreateTransformStmt":
      add(body.fromsql, "FROM SQL");
      add(body.tosql, "TO SQL");
      break;
    case "CreateFdwStmt":
    case "AlterFdwStmt":
      entries(body.func_options, undefined);
      break;
    case "CreateAmStmt":
      add(body.handler_name, "HANDLER");
      break;
    case "RenameStmt":
      if (FUNCTION_OBJECTS.has(String(body.renameType))) add(body.object, "RENAME");
      break;
  }
  return out;
}

const SUPPORT: ReadonlySet<string> = new Set(["support"]);
/**
 * Definition entries whose value is a function (PostgreSQL 15): CREATE AGGREGATE's, CREATE
 * OPERATOR's and ALTER OPERATOR's, CREATE TYPE's and ALTER TYPE's, a range type's, a text
 * search parser's and template's. The others name types, operators, collations or options.
 */
const FUNCTION_ENTRIES: ReadonlySet<string> = new Set([
  "sfunc", "sfunc1", "finalfunc", "combinefunc", "serialfunc", "deserialfunc", "msfunc", "minvfunc", "mfinalfunc",
  "function", "procedure", "restrict", "join",
  "input", "output", "receive", "send", "typmod_in", "typmod_out", "analyze", "subscript",
  "canonical", "subtype_diff",
  "start", "gettoken", "end", "headline", "lextypes", "init", "lexize",
]);
/** CreateOpClassItem.itemtype of a FUNCTION item (1: OPERATOR, 3: STORAGE) */
const OPCLASS_ITEM_FUNCTION = 2;
/** definition entries whose value is a value (an aggregate's initial state, a type's default), never a name */
const VALUES: ReadonlySet<string> = new Set(["initcond", "initcond1", "minitcond", "default"]);

/**
 * A name's parts as the grammar gives them: a TypeName (`SFUNC = set_config`), a string
 * (`SFUNC = 'set_config'`, one name whatever it holds), a List or a bare array of String nodes, an
 * ObjectWithArgs (wrapped or bare).
 */
function nameOf(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return nameParts(value as Node[]);
  if (!isObject(value)) return undefined;
  const string = nodeAs(value, "String");
  if (string !== undefined) return string.sval === undefined ? undefined : [string.sval];
  const parts = nodeAs(value, "TypeName")?.names ?? nodeAs(value, "List")?.items ?? nodeAs(value, "ObjectWithArgs")?.objname
    ?? (Array.isArray(value.objname) ? (value.objname as Node[]) : undefined);
  return nameParts(parts);
}

/**
 * The C symbol a LANGUAGE internal or C function is bound to: `AS 'symbol'` (internal), `AS
 * 'file', 'symbol'` (C), else the function's own name.
 */
function cSymbol(body: JsonObject): string | undefined {
  let language: string | undefined;
  let as: string[] | undefined;
  for (const option of Array.isArray(body.options) ? body.options : []) {
    const entry = nodeAs(option, "DefElem");
    if (entry?.defname === "language") language = nodeAs(entry.arg, "String")?.sval?.toLowerCase();
    if (entry?.defname === "as") as = nameParts(nodeAs(entry.arg, "List")?.items);
  }
  if (language === undefined || !C_LANGUAGES.has(language)) return undefined;
  if (as !== undefined && (language === "internal" ? as.length >= 1 : as.length >= 2)) return as.at(-1);
  return nameParts(body.funcname as Node[] | undefined)?.at(-1);
}

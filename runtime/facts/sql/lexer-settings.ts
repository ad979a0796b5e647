// The facts are only right if the server lexes the text as this parser does: UTF-8 and
// `standard_conforming_strings = on`. A client that changed either could send text that is
// one harmless statement here and several to the server (`SELECT 'a\'; DROP TABLE t; --'`, or
// a multibyte client encoding whose trailing byte is a backslash). So a statement that changes
// them is refused; the proxy also refuses such startups and ends a session whose server
// reports another value (runtime/postgres) — but only once the server reports it, at the
// next ReadyForQuery, which a pipelined Query may already be behind: the refusal here is what
// holds.
//
// Nor may a client move `search_path` to another schema: an unqualified name is reported as
// `public.name` (docs/sql-facts.md), so after `SET search_path = billing` a rule on
// `billing.cards` would not see `SELECT * FROM cards`. Values made only of `public`,
// `pg_catalog`, `pg_temp` and `$user` (the server's default resolution, or less) are allowed.
// Nor change the role (`SET ROLE`, `SET SESSION AUTHORIZATION`): `$user` in the default
// search_path is the current role, so `SET ROLE billing` puts the schema `billing` first.
//
// Settings have other doors than SET and set_config: an UPDATE of the `pg_settings` view runs
// set_config through the view's rule (and so does an UPDATE of a view over it), and a row in
// `pg_db_role_setting` is what `ALTER ROLE|DATABASE … SET` writes. Writes to those relations
// are refused whatever their values, and so are views over them and rules naming them (an ON
// SELECT rule turns a table into a view).

import type { FuncCall, Node, RangeVar, VariableSetStmt } from "libpg-query";
import { nameParts, nodeAs } from "./ast.js";

const GUARDED = new Set(["standard_conforming_strings", "client_encoding"]);
const SEARCH_PATH = "search_path";
/** schemas a search_path may hold: where the facts' `public.` guess still holds, or fewer */
const SAFE_SCHEMAS = new Set(["public", "pg_catalog", "pg_temp", "$user"]);
/** settings whose value is the role `$user` stands for */
const ROLE_SETTINGS = new Set(["role", "session_authorization"]);
/** setting values that put the setting back to its default */
const RESETS = new Set(["VAR_RESET", "VAR_RESET_ALL", "VAR_SET_DEFAULT"]);
/** `SET ROLE NONE` (the grammar lower-cases it; the server compares it exactly): back to the session user */
const ROLE_NONE = "none";
/** relations whose rows are settings: a write to them changes a setting without naming it */
const SETTINGS_RELATIONS: Readonly<Record<string, string>> = {
  pg_settings: "an UPDATE of it runs set_config through the view's rule",
  pg_db_role_setting: "its rows are the settings ALTER ROLE|DATABASE … SET gives later sessions",
};

/** Why the statement may not run, or undefined when it is not a SET-like statement touching a guarded setting. */
export function settingStatementProblem(stmt: Node): string | undefined {
  const set = nodeAs(stmt, "VariableSetStmt")
    ?? nodeAs(stmt, "AlterSystemStmt")?.setstmt
    ?? nodeAs(stmt, "AlterRoleSetStmt")?.setstmt
    ?? nodeAs(stmt, "AlterDatabaseSetStmt")?.setstmt;
  const name = set?.name?.toLowerCase();
  if (name === undefined || RESETS.has(set!.kind ?? "")) return undefined;
  if (GUARDED.has(name)) return changing(set!.name!);
  if (name === SEARCH_PATH) {
    const schemas = (set!.args ?? []).map((arg) => nodeAs(arg, "A_Const")?.sval?.sval);
    if (set!.kind !== "VAR_SET_VALUE" || schemas.some((s) => s === undefined || !SAFE_SCHEMAS.has(s))) return searchPath();
  }
  if (ROLE_SETTINGS.has(name) && !(name === "role" && setsRoleNone(set!))) return role();
  return undefined;
}

function setsRoleNone(set: VariableSetStmt): boolean {
  const args = set.args ?? [];
  return set.kind === "VAR_SET_VALUE" && args.length === 1 && nodeAs(args[0], "A_Const")?.sval?.sval === ROLE_NONE;
}

function changing(name: string): string {
  return `changing ${name} is not allowed through the gateway: it changes how the server reads statements`;
}

function searchPath(): string {
  return "setting search_path to other schemas is not allowed through the gateway: unqualified names would resolve where its policy does not look; qualify the names instead";
}

function role(): string {
  return "changing the role (SET ROLE, SET SESSION AUTHORIZATION) is not allowed through the gateway: \"$user\" in search_path follows it, so unqualified names would resolve where its policy does not look; RESET ROLE is allowed";
}

/** the schemas of a search_path given as text (`set_config`): quoted names as they are, others lower-cased; undefined when unreadable */
function searchPathSchemas(value: string): string[] | undefined {
  if (value.trim() === "") return [];
  const schemas: string[] = [];
  for (const part of value.split(",")) {
    const name = part.trim();
    const quoted = /^"((?:[^"]|"")*)"$/.exec(name);
    if (quoted !== null) schemas.push(quoted[1]!.replaceAll('""', '"'));
    else if (/^[A-Za-z_$][\w$]*$/.test(name)) schemas.push(name.toLowerCase());
    else return undefined;
  }
  return schemas;
}

/**
 * A `set_config(name, …)` call with a guarded or non-constant name. The call is recognised by
 * its last name part, however it is qualified: `mydb.pg_catalog.set_config` is the builtin too
 * (a catalog prefix naming the current database is accepted by the server), and a user's
 * `public.set_config` is refused with it rather than guessed to be harmless.
 */
export function setConfigProblem(call: FuncCall): string | undefined {
  const parts = nameParts(call.funcname);
  if (parts?.[parts.length - 1] !== "set_config") return undefined;
  const name = call.args?.[0] && nodeAs(call.args[0], "A_Const")?.sval?.sval;
  if (name === undefined) return "set_config with a computed setting name is not allowed through the gateway";
  const lower = name.toLowerCase();
  if (GUARDED.has(lower)) return changing(name);
  const value = call.args?.[1] && nodeAs(call.args[1], "A_Const")?.sval?.sval;
  if (lower === SEARCH_PATH) {
    const schemas = value === undefined ? undefined : searchPathSchemas(value);
    if (schemas === undefined || schemas.some((s) => !SAFE_SCHEMAS.has(s))) return searchPath();
  }
  if (ROLE_SETTINGS.has(lower) && !(lower === "role" && value === ROLE_NONE)) return role();
  return undefined;
}

/**
 * A write (INSERT, UPDATE, DELETE, MERGE, COPY FROM) to a relation whose rows are settings.
 * Judged by the relation's name, whatever schema qualifies it: the catalog's are found first.
 */
export function settingsWriteProblem(relation: RangeVar | undefined): string | undefined {
  const name = settingsRelation(relation);
  if (name === undefined) return undefined;
  return `writing to ${name} is not allowed through the gateway: ${SETTINGS_RELATIONS[name]}, which changes settings unseen (use SET)`;
}

/**
 * `pg_settings` or `pg_db_role_setting` named in the query of a view, or anywhere in a rule.
 * PostgreSQL makes a simple view updatable, and its UPDATE goes through pg_settings' rule (or
 * writes pg_db_role_setting's rows). A rule (any event) can make such a view: `CREATE TABLE t
 * (LIKE pg_settings)` then `CREATE RULE "_RETURN" AS ON SELECT TO t DO INSTEAD SELECT * FROM
 * pg_settings` turns t into a view over pg_settings (PostgreSQL 15 still converts a table so),
 * whose UPDATE runs set_config; a rule on pg_settings itself changes what its UPDATE does.
 */
export function settingsViewProblem(relation: RangeVar, within: "view" | "rule"): string | undefined {
  const name = settingsRelation(relation);
  if (name === undefined) return undefined;
  return within === "view"
    ? `a view over ${name} is not allowed through the gateway: an UPDATE of it would write ${name} (${SETTINGS_RELATIONS[name]}), changing settings unseen`
    : `a rule naming ${name} is not allowed through the gateway: it can make a view over it (an ON SELECT rule turns a table into one) whose UPDATE writes ${name} (${SETTINGS_RELATIONS[name]}), changing settings unseen`;
}

/** The relation's name when its rows are settings (SETTINGS_RELATIONS), else undefined. */
function settingsRelation(relation: RangeVar | undefined): string | undefined {
  const name = relation?.relname;
  return name !== undefined && Object.hasOwn(SETTINGS_RELATIONS, name) ? name : undefined;
}

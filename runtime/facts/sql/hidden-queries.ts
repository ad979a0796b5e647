// Builtins that run SQL given as text, or read a relation (schema, database) named by a value:
// what they read and call is nowhere in the statement's tree, so `sql.tables` and
// `sql.functions` would not show it. `SELECT query_to_xml('select card from payment_methods',
// …)` has no table; `query_to_xml('select set_config(…)', …)` changes a setting the lexer-setting
// guard never sees; `query_to_xml('select pg_ls_dir(''.'')', …)` escapes a function deny list.
// A statement calling one is refused, whatever the policy (docs/sql-facts.md). They are judged
// by the call's last name part, however it is qualified: a user's function of the same name is
// refused with them rather than guessed harmless.
//
// `cursor_to_xml` and `cursor_to_xmlschema` are not here: they read a cursor declared earlier,
// whose query was decided at its DECLARE (or Parse), as FETCH does.

import type { FuncCall } from "libpg-query";
import { nameParts } from "./ast.js";

const RUNS_SQL = "it runs SQL given as text";
const READS_NAMED = "it reads a relation, schema or database named by a value";
const REMOTE_SQL = "it runs SQL given as text on another connection (possibly to this database)";

const HIDDEN: ReadonlyMap<string, string> = new Map([
  // core
  ...["query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "ts_stat", "ts_rewrite"].map((n) => [n, RUNS_SQL] as const),
  ...[
    "table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema",
    "schema_to_xml", "schema_to_xmlschema", "schema_to_xml_and_xmlschema",
    "database_to_xml", "database_to_xmlschema", "database_to_xml_and_xmlschema",
  ].map((n) => [n, READS_NAMED] as const),
  // contrib: dblink runs SQL on another connection; its dblink_build_sql_* read a local row of a relation named by a value
  ...["dblink", "dblink_exec", "dblink_open", "dblink_send_query"].map((n) => [n, REMOTE_SQL] as const),
  ...["dblink_build_sql_insert", "dblink_build_sql_update", "dblink_build_sql_delete"].map((n) => [n, READS_NAMED] as const),
  // contrib: tablefunc's crosstab runs SQL text, connectby reads a relation named by a value
  ...["crosstab", "crosstab2", "crosstab3", "crosstab4"].map((n) => [n, RUNS_SQL] as const),
  ["connectby", READS_NAMED],
  // contrib: pageinspect returns the raw pages (get_raw_page) and index tuples (bt_page_items) of a relation named by a value
  ["get_raw_page", READS_NAMED],
  ["bt_page_items", READS_NAMED],
]);

/** Every name this module refuses (for tests and docs). */
export const HIDDEN_QUERY_FUNCTIONS: readonly string[] = [...HIDDEN.keys()];

/** Why a call may not run, or undefined when it is not one of the builtins above. */
export function hiddenQueryProblem(call: FuncCall): string | undefined {
  const name = nameParts(call.funcname)?.at(-1);
  const why = name === undefined ? undefined : hiddenQueryReason(name);
  if (why === undefined) return undefined;
  return `${name}() is not allowed through the gateway: ${why}`;
}

/** Why running the builtin `name` (a last name part) is refused, or undefined when it is not one of them. */
export function hiddenQueryReason(name: string): string | undefined {
  const why = HIDDEN.get(name);
  return why === undefined ? undefined : `${why}, which the gateway cannot see to decide`;
}

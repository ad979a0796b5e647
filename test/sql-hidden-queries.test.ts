// Builtins that run SQL given as text, or read a relation named by a value, hide what they read
// and call from the facts: a statement calling one is refused, whatever the policy.

import { beforeAll, describe, expect, it } from "vitest";
import { HIDDEN_QUERY_FUNCTIONS } from "../runtime/facts/sql/hidden-queries.js";
import { extractSqlFacts, loadSqlParser } from "../runtime/facts/sql/index.js";

beforeAll(loadSqlParser);

describe("builtins that run SQL the facts cannot see", () => {
  it.each([
    // tables hidden from `sql.tables within [...]`
    "SELECT query_to_xml('select card from payment_methods', true, false, '')",
    "SELECT pg_catalog.query_to_xml('select 1', true, false, '')",
    "SELECT mydb.pg_catalog.query_to_xmlschema('select 1', true, false, '')",
    "SELECT query_to_xml_and_xmlschema('select 1', true, false, '')",
    "SELECT table_to_xml('payment_methods', true, false, '')",
    "SELECT table_to_xml('payment_methods'::regclass, true, false, '')",
    "SELECT * FROM ts_stat('select to_tsvector(card) from payment_methods')",
    "SELECT ts_rewrite('a & b'::tsquery, 'SELECT t, s FROM aliases')",
    "SELECT schema_to_xml('billing', true, false, '')",
    "SELECT database_to_xml(true, false, '')",
    // settings and functions hidden from the guards and from `sql.functions has_any [...]`
    "SELECT query_to_xml('select set_config(''standard_conforming_strings'', ''off'', false)', true, false, '')",
    "SELECT query_to_xml('select pg_ls_dir(''.'') as f', true, false, '')",
    // contrib: SQL text on another connection (possibly this database), relations named by a value
    "SELECT * FROM dblink('dbname=app', 'select card from payment_methods') AS t(card text)",
    "SELECT dblink_exec('dbname=app', 'DROP TABLE victims')",
    "SELECT public.dblink_open('c', 'select * from payment_methods')",
    "SELECT dblink_send_query('c', 'select 1')",
    "SELECT dblink_build_sql_insert('payment_methods', '1', 1, '{1}', '{2}')",
    "SELECT * FROM crosstab('select a, b, c from payment_methods') AS ct(a text, b text)",
    "SELECT * FROM connectby('payment_methods', 'id', 'parent', '1', 0) AS t(id int, parent int, level int)",
    "SELECT get_raw_page('payment_methods', 0)",
    // wherever the call is, and whatever stores it to run later
    "SELECT 1 WHERE EXISTS (SELECT query_to_xml('select 1', true, false, ''))",
    "WITH x AS (SELECT table_to_xml('t', true, false, '') AS x) SELECT * FROM x",
    "INSERT INTO log (x) VALUES (query_to_xml('select card from payment_methods', true, false, ''))",
    "PREPARE p (regclass) AS SELECT table_to_xml($1, true, false, '')",
    "CREATE VIEW v AS SELECT query_to_xml('select card from payment_methods', true, false, '') AS x",
    "CREATE FUNCTION f() RETURNS xml LANGUAGE sql BEGIN ATOMIC SELECT table_to_xml('payment_methods', true, false, ''); END",
    "SELECT 1; SELECT query_to_xml('select 1', true, false, '')",
  ])("refuses %s", (sql) => {
    const f = extractSqlFacts(sql);
    expect(f).toMatchObject({ ok: false, refused: true });
    expect(!f.ok && f.error).toMatch(/^\w+\(\) is not allowed through the gateway: it (runs SQL given as text|reads a relation)/);
  });

  it("names the function and why", () => {
    expect(extractSqlFacts("SELECT query_to_xml('select 1', true, false, '')")).toEqual({
      ok: false,
      refused: true,
      error: "query_to_xml() is not allowed through the gateway: it runs SQL given as text, which the gateway cannot see to decide",
    });
  });

  it.each([
    // a cursor's query was decided at its DECLARE, as for FETCH
    "SELECT cursor_to_xml('c', 10, true, false, '')",
    "SELECT cursor_to_xmlschema('c', true, false, '')",
    // names that are not calls
    "SELECT query_to_xml FROM t",
    "SELECT 'query_to_xml(''select 1'', true, false, '''')'",
    "SELECT xmlelement(name query_to_xml, 1)",
    // a body in a string literal stays opaque, as for DO and dblink_exec's text (docs/sql-facts.md)
    "CREATE FUNCTION f() RETURNS xml LANGUAGE sql AS 'SELECT query_to_xml(''select 1'', true, false, '''')'",
  ])("allows %s", (sql) => {
    expect(extractSqlFacts(sql).ok).toBe(true);
  });

  it("covers the builtins the masking catalog treats as running queries, but for the cursor ones", () => {
    for (const name of [
      "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
      "table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema",
      "schema_to_xml", "schema_to_xmlschema", "schema_to_xml_and_xmlschema",
      "database_to_xml", "database_to_xmlschema", "database_to_xml_and_xmlschema",
      "ts_stat", "ts_rewrite",
    ]) {
      expect(HIDDEN_QUERY_FUNCTIONS).toContain(name);
    }
    expect(HIDDEN_QUERY_FUNCTIONS).not.toContain("cursor_to_xml");
  });
});

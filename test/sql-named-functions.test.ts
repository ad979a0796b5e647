// The refusals that hold whatever the policy, reached without a call: DDL that names a refused
// builtin for the server to call later, and rules that make a view over pg_settings.

import { beforeAll, describe, expect, it } from "vitest";
import { extractSqlFacts, loadSqlParser } from "../runtime/facts/sql/index.js";

beforeAll(loadSqlParser);

function refused(sql: string): string {
  const f = extractSqlFacts(sql);
  expect(f, sql).toMatchObject({ ok: false, refused: true });
  return f.ok ? "" : f.error;
}

describe("refused builtins named in DDL", () => {
  it.each([
    // RT2-5 (a): SELECT rt2_set('off', false) calls set_config
    "CREATE AGGREGATE rt2_set(text, boolean) (SFUNC = set_config, STYPE = text, INITCOND = 'standard_conforming_strings')",
    "CREATE OR REPLACE AGGREGATE a(text, boolean) (SFUNC = pg_catalog.set_config, STYPE = text)",
    "CREATE AGGREGATE a(text, boolean) (SFUNC = mydb.pg_catalog.set_config, STYPE = text)",
    "CREATE AGGREGATE a(text, boolean) (SFUNC = 'set_config', STYPE = text)",
    "CREATE AGGREGATE a(text) (SFUNC = textcat, STYPE = text, FINALFUNC = set_config)",
    "CREATE AGGREGATE a(text) (SFUNC = textcat, STYPE = text, COMBINEFUNC = set_config)",
    "CREATE AGGREGATE a(text) (SFUNC = textcat, STYPE = text, SERIALFUNC = set_config, DESERIALFUNC = x)",
    "CREATE AGGREGATE a(text) (SFUNC = textcat, STYPE = text, MSFUNC = set_config, MINVFUNC = x, MSTYPE = text)",
    "CREATE AGGREGATE a(text) (SFUNC = textcat, STYPE = text, MSFUNC = x, MINVFUNC = set_config, MSTYPE = text)",
    "CREATE AGGREGATE a(text) (SFUNC = textcat, STYPE = text, MFINALFUNC = set_config)",
    "CREATE AGGREGATE a (BASETYPE = text, SFUNC1 = set_config, STYPE1 = text)",
    // RT2-5 (c): 'a'::tsquery ##> 'select …' runs SQL given as text
    "CREATE OPERATOR ##> (LEFTARG = tsquery, RIGHTARG = text, FUNCTION = ts_rewrite)",
    "CREATE OPERATOR ##> (LEFTARG = tsquery, RIGHTARG = text, PROCEDURE = pg_catalog.ts_rewrite)",
    "CREATE OPERATOR ### (RIGHTARG = text, FUNCTION = query_to_xml)",
    "ALTER OPERATOR ##> (tsquery, text) SET (RESTRICT = set_config)",
    "CREATE TYPE t (INPUT = set_config, OUTPUT = textout)",
    "ALTER TYPE t SET (RECEIVE = ts_stat)",
    "CREATE TYPE r AS RANGE (SUBTYPE = int4, SUBTYPE_DIFF = set_config)",
    "CREATE TEXT SEARCH PARSER p (START = set_config, GETTOKEN = x, END = y, LEXTYPES = z)",
    "CREATE CAST (text AS tsquery) WITH FUNCTION ts_rewrite(tsquery, text)",
    "CREATE CAST (text AS int) WITH FUNCTION pg_catalog.set_config(text, text, boolean)",
    "CREATE TRIGGER t AFTER INSERT ON x EXECUTE FUNCTION set_config()",
    "CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION dblink_exec()",
    "CREATE OPERATOR CLASS c FOR TYPE int USING btree AS OPERATOR 1 <, FUNCTION 1 set_config(int, int)",
    "ALTER OPERATOR FAMILY f USING btree ADD FUNCTION 1 (int, int) set_config(int, int)",
    "CREATE CONVERSION c FOR 'UTF8' TO 'LATIN1' FROM set_config",
    "CREATE LANGUAGE l HANDLER set_config",
    "CREATE LANGUAGE l HANDLER h INLINE query_to_xml",
    "CREATE TRANSFORM FOR int LANGUAGE sql (FROM SQL WITH FUNCTION set_config(internal), TO SQL WITH FUNCTION f(internal))",
    "CREATE FOREIGN DATA WRAPPER w HANDLER set_config",
    "ALTER FOREIGN DATA WRAPPER w VALIDATOR ts_stat",
    "CREATE ACCESS METHOD m TYPE TABLE HANDLER set_config",
    "CREATE FUNCTION f() RETURNS int SUPPORT set_config LANGUAGE sql AS 'select 1'",
    "ALTER FUNCTION f() SUPPORT set_config",
    // the builtin under another name
    "ALTER FUNCTION set_config(text, text, boolean) RENAME TO sc",
    "ALTER ROUTINE pg_catalog.ts_rewrite RENAME TO r",
    "ALTER AGGREGATE query_to_xml(int) RENAME TO q",
    "CREATE FUNCTION sc(text, text, boolean) RETURNS text LANGUAGE internal STRICT AS 'set_config_by_name'",
    "CREATE FUNCTION r(tsquery, text) RETURNS tsquery LANGUAGE internal AS 'tsquery_rewrite_query'",
    "CREATE FUNCTION q(text, bool, bool, text) RETURNS xml LANGUAGE internal AS 'query_to_xml'",
    "CREATE FUNCTION x(text, text) RETURNS int LANGUAGE c AS '$libdir/dblink', 'dblink_exec'",
    "CREATE FUNCTION dblink_exec(text, text) RETURNS int LANGUAGE C AS '$libdir/dblink'",
    // wherever it sits in a text
    "SELECT 1; CREATE AGGREGATE a(text, boolean) (SFUNC = set_config, STYPE = text)",
  ])("refuses %s", (sql) => {
    expect(refused(sql)).toMatch(/not allowed through the gateway/);
  });

  it("says which name, where, and why", () => {
    expect(refused("CREATE AGGREGATE rt2_set(text, boolean) (SFUNC = set_config, STYPE = text)")).toBe(
      "CREATE AGGREGATE naming set_config() (sfunc) is not allowed through the gateway: the server would call it later with no call the gateway sees, and it changes settings the gateway reads statements by (standard_conforming_strings, client_encoding, search_path, role)",
    );
    expect(refused("CREATE OPERATOR ##> (LEFTARG = tsquery, RIGHTARG = text, FUNCTION = ts_rewrite)")).toMatch(
      /^CREATE OPERATOR naming ts_rewrite\(\) \(function\) is not allowed through the gateway: .* it runs SQL given as text/,
    );
    expect(refused("ALTER FUNCTION set_config(text, text, boolean) RENAME TO sc")).toMatch(/^renaming set_config\(\) is not allowed/);
    expect(refused("CREATE FUNCTION sc(text, text, boolean) RETURNS text LANGUAGE internal AS 'set_config_by_name'")).toMatch(
      /^a function bound to the C symbol set_config_by_name \(set_config\) is not allowed/,
    );
  });

  it.each([
    "CREATE AGGREGATE my_sum(int) (SFUNC = int4pl, STYPE = int)",
    "CREATE AGGREGATE a(text) (SFUNC = textcat, STYPE = text, INITCOND = 'set_config')",
    "CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq, COMMUTATOR = ===)",
    "CREATE CAST (text AS mytype) WITH FUNCTION mytype_in(text)",
    "CREATE TRIGGER t AFTER INSERT ON x FOR EACH ROW EXECUTE FUNCTION audit()",
    "CREATE FUNCTION f() RETURNS int LANGUAGE internal AS 'int4pl'",
    "CREATE FUNCTION set_config_wrapper() RETURNS int LANGUAGE sql AS 'select 1'",
    "ALTER FUNCTION f() RENAME TO set_config_old",
    "ALTER TABLE set_config RENAME TO x",
    "DROP FUNCTION set_config(text, text, boolean)",
    "COMMENT ON FUNCTION ts_rewrite(tsquery, text) IS 'x'",
    "GRANT EXECUTE ON FUNCTION set_config(text, text, boolean) TO app",
  ])("allows %s", (sql) => {
    expect(extractSqlFacts(sql).ok).toBe(true);
  });

  it("keeps DDL out of the template cache: a function named by a string is a literal", () => {
    // the allowed variant first: a template from it must not answer the refused one
    expect(extractSqlFacts("CREATE AGGREGATE a(text, boolean) (SFUNC = 'textcat', STYPE = text)").ok).toBe(true);
    expect(extractSqlFacts("CREATE AGGREGATE a(text, boolean) (SFUNC = 'set_config', STYPE = text)").ok).toBe(false);
    expect(extractSqlFacts("CREATE FUNCTION f(text, text, boolean) RETURNS text LANGUAGE internal AS 'textcat'").ok).toBe(true);
    expect(extractSqlFacts("CREATE FUNCTION f(text, text, boolean) RETURNS text LANGUAGE internal AS 'set_config_by_name'").ok).toBe(false);
  });
});

describe("functions DDL binds are in the functions fact", () => {
  function functions(sql: string): string[] {
    const f = extractSqlFacts(sql);
    if (!f.ok) throw new Error(`${sql}: ${f.error}`);
    return [...new Set(f.statements.flatMap((s) => s.functions))].sort();
  }

  it.each([
    // RT4: a deny list of sql.functions did not see these
    ["CREATE OPERATOR !!! (RIGHTARG = text, FUNCTION = pg_read_file)", ["pg_read_file"]],
    ["CREATE AGGREGATE rf(text) (SFUNC = textcat, STYPE = text, INITCOND = '', FINALFUNC = pg_read_file)", ["pg_read_file", "textcat"]],
    ["CREATE OPERATOR ### (LEFTARG = oid, RIGHTARG = text, FUNCTION = lo_export)", ["lo_export"]],
    // qualified like a call; a string is one name
    ["CREATE OPERATOR ### (LEFTARG = oid, RIGHTARG = text, PROCEDURE = pg_catalog.lo_export, RESTRICT = eqsel, COMMUTATOR = ###)", ["eqsel", "lo_export", "pg_catalog.lo_export"]],
    ["CREATE AGGREGATE rf(text) (SFUNC = textcat, STYPE = text, FINALFUNC = 'pg_read_file')", ["pg_read_file", "textcat"]],
    ["CREATE AGGREGATE a(int) (SFUNC = f1, STYPE = int, COMBINEFUNC = f2, SERIALFUNC = f3, DESERIALFUNC = f4, MSFUNC = f5, MINVFUNC = f6, MSTYPE = int, MFINALFUNC = f7, SORTOP = <)", ["f1", "f2", "f3", "f4", "f5", "f6", "f7"]],
    ["CREATE AGGREGATE a (BASETYPE = text, SFUNC1 = f1, STYPE1 = text, INITCOND1 = 'x')", ["f1"]],
    ["ALTER OPERATOR ### (oid, text) SET (RESTRICT = lo_unlink, JOIN = eqjoinsel)", ["eqjoinsel", "lo_unlink"]],
    ["CREATE TYPE t (INPUT = pg_read_file, OUTPUT = textout, RECEIVE = r, SEND = s, TYPMOD_IN = ti, TYPMOD_OUT = tu, ANALYZE = a, SUBSCRIPT = sb, INTERNALLENGTH = variable, ELEMENT = int4)", ["a", "pg_read_file", "r", "s", "sb", "textout", "ti", "tu"]],
    ["ALTER TYPE t SET (RECEIVE = r, STORAGE = plain)", ["r"]],
    ["CREATE TYPE r AS RANGE (SUBTYPE = int4, SUBTYPE_DIFF = int4mi, CANONICAL = c)", ["c", "int4mi"]],
    ["CREATE TEXT SEARCH PARSER p (START = s, GETTOKEN = g, END = e, LEXTYPES = l, HEADLINE = h)", ["e", "g", "h", "l", "s"]],
    ["CREATE TEXT SEARCH TEMPLATE t (INIT = i, LEXIZE = l)", ["i", "l"]],
    ["CREATE CAST (text AS int) WITH FUNCTION s.f(text)", ["f", "s.f"]],
    ["CREATE TRIGGER t AFTER INSERT ON x FOR EACH ROW EXECUTE FUNCTION trg('a')", ["trg"]],
    ["CREATE SCHEMA s CREATE TRIGGER t AFTER INSERT ON x EXECUTE FUNCTION trg()", ["trg"]],
    ["CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION evt()", ["evt"]],
    ["CREATE OPERATOR CLASS c FOR TYPE int USING btree AS OPERATOR 1 <, FUNCTION 1 pg_catalog.btint4cmp(int, int), STORAGE int", ["btint4cmp", "pg_catalog.btint4cmp"]],
    ["ALTER OPERATOR FAMILY f USING btree ADD FUNCTION 1 (int, int) lo_unlink(int, int)", ["lo_unlink"]],
    ["CREATE CONVERSION c FOR 'UTF8' TO 'LATIN1' FROM utf8_to_iso8859_1", ["utf8_to_iso8859_1"]],
    ["CREATE LANGUAGE l HANDLER h INLINE i VALIDATOR s.v", ["h", "i", "s.v", "v"]],
    ["CREATE TRANSFORM FOR int LANGUAGE sql (FROM SQL WITH FUNCTION a(internal), TO SQL WITH FUNCTION b(internal))", ["a", "b"]],
    ["CREATE FOREIGN DATA WRAPPER w HANDLER h VALIDATOR v", ["h", "v"]],
    ["ALTER FOREIGN DATA WRAPPER w NO HANDLER VALIDATOR v", ["v"]],
    ["CREATE ACCESS METHOD m TYPE TABLE HANDLER heap_tableam_handler", ["heap_tableam_handler"]],
    ["CREATE FUNCTION f() RETURNS int SUPPORT sup LANGUAGE sql AS 'select 1'", ["sup"]],
    ["ALTER FUNCTION f() SUPPORT sup", ["sup"]],
    // the builtin under another name: renamed, or bound to its C symbol (reported as written)
    ["ALTER FUNCTION pg_read_file(text) RENAME TO rf", ["pg_read_file"]],
    ["CREATE FUNCTION rf(text) RETURNS text LANGUAGE internal AS 'pg_read_file_all'", ["pg_read_file_all"]],
    ["CREATE FUNCTION pg_read_file(text) RETURNS text LANGUAGE internal", ["pg_read_file"]],
    // types, operators and values are not functions
    ["CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq, COMMUTATOR = ===, NEGATOR = !==)", ["int4eq"]],
    ["CREATE TYPE t AS (a int, b text)", []],
    ["CREATE COLLATION c (LOCALE = 'C')", []],
    ["ALTER TABLE pg_read_file RENAME TO x", []],
    ["DROP FUNCTION pg_read_file(text)", []],
  ])("%s", (sql, expected) => {
    expect(functions(sql)).toEqual(expected);
  });

  it("keeps DDL out of the template cache: a function named by a string is a literal", () => {
    expect(functions("CREATE AGGREGATE rt4(text) (SFUNC = textcat, STYPE = text, FINALFUNC = 'textcat')")).toEqual(["textcat"]);
    expect(functions("CREATE AGGREGATE rt4(text) (SFUNC = textcat, STYPE = text, FINALFUNC = 'pg_read_file')")).toEqual(["pg_read_file", "textcat"]);
    expect(functions("ALTER OPERATOR ### (oid, text) SET (RESTRICT = 'eqsel')")).toEqual(["eqsel"]);
    expect(functions("ALTER OPERATOR ### (oid, text) SET (RESTRICT = 'lo_unlink')")).toEqual(["lo_unlink"]);
  });
});

describe("rules and views over the settings relations", () => {
  it.each([
    // RT2-5 (b): PostgreSQL 15 turns the table into a view over pg_settings, whose UPDATE runs set_config
    "CREATE RULE \"_RETURN\" AS ON SELECT TO rt2_s DO INSTEAD SELECT * FROM pg_settings",
    "CREATE OR REPLACE RULE \"_RETURN\" AS ON SELECT TO rt2_s DO INSTEAD SELECT * FROM pg_catalog.pg_settings",
    "CREATE RULE r AS ON SELECT TO t DO INSTEAD SELECT * FROM (SELECT * FROM pg_settings) s",
    "CREATE RULE r AS ON INSERT TO t DO INSTEAD SELECT name FROM pg_settings",
    "CREATE RULE r AS ON UPDATE TO pg_settings DO ALSO NOTHING",
    "CREATE RULE r AS ON INSERT TO t WHERE EXISTS (SELECT FROM pg_db_role_setting) DO NOTHING",
    "CREATE VIEW v AS SELECT * FROM pg_db_role_setting",
  ])("refuses %s", (sql) => {
    expect(refused(sql)).toMatch(/^a (rule naming|view over) pg_(settings|db_role_setting) is not allowed through the gateway/);
  });

  it.each([
    "CREATE RULE r AS ON INSERT TO t DO ALSO INSERT INTO log VALUES (1)",
    "SELECT name, setting FROM pg_settings",
    "SELECT * FROM pg_db_role_setting",
  ])("allows %s", (sql) => {
    expect(extractSqlFacts(sql).ok).toBe(true);
  });
});

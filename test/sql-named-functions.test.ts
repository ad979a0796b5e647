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

// Statements that would make the server read text differently from the gateway's parser are
// refused, whichever way they are spelled.

import { beforeAll, describe, expect, it } from "vitest";
import { extractSqlFacts, loadSqlParser } from "../runtime/facts/sql/index.js";

beforeAll(loadSqlParser);

describe("lexer settings", () => {
  it.each([
    "SET standard_conforming_strings = off",
    "set STANDARD_CONFORMING_STRINGS to 'off'",
    "SET LOCAL standard_conforming_strings = off",
    "SET SESSION client_encoding = 'SJIS'",
    "SET NAMES 'BIG5'",
    "ALTER SYSTEM SET standard_conforming_strings = off",
    "SELECT set_config('standard_conforming_strings', 'off', false)",
    "SELECT pg_catalog.set_config('client_encoding', 'SJIS', false)",
    "SELECT 1 FROM t WHERE set_config('Standard_Conforming_Strings', 'off', true) IS NOT NULL",
    "SELECT set_config(name, 'off', false) FROM settings_to_apply",
    "SELECT 1; SET standard_conforming_strings = off",
    // judged by the function's last name part, whatever qualifies it
    "SELECT mydb.pg_catalog.set_config('standard_conforming_strings', 'off', false)",
    "SELECT \"mydb\".\"pg_catalog\".\"set_config\"('client_encoding', 'SJIS', false)",
    "SELECT public.set_config('standard_conforming_strings', 'off', false)",
  ])("refuses %s", (sql) => {
    const f = extractSqlFacts(sql);
    expect(f.ok).toBe(false);
    expect(!f.ok && f.error).toMatch(/not allowed through the gateway/);
  });

  it.each([
    "RESET standard_conforming_strings",
    "SET application_name = 'ci'",
    "SELECT set_config('app.user_id', '42', false)",
  ])("allows %s", (sql) => {
    expect(extractSqlFacts(sql).ok).toBe(true);
  });

  it("keeps set_config out of the template cache: its verdict depends on a literal", () => {
    expect(extractSqlFacts("SELECT set_config('app.tenant', 'a', false)").ok).toBe(true);
    expect(extractSqlFacts("SELECT set_config('standard_conforming_strings', 'a', false)").ok).toBe(false);
  });

  it.each([
    "SET search_path = billing",
    "SET search_path TO billing, public",
    "set SEARCH_PATH = 'billing'",
    "SET LOCAL search_path = public, \"Billing\"",
    "SET search_path = 'Public'",
    "ALTER ROLE CURRENT_USER SET search_path = billing",
    "ALTER DATABASE app SET search_path = billing",
    "SELECT set_config('search_path', 'billing', false)",
    "SELECT pg_catalog.set_config('Search_Path', 'public, billing', true)",
    "SELECT set_config('search_path', current_setting('app.schemas'), false)",
    "SELECT set_config('search_path', 'public;billing', false)",
    "SELECT 1; SET search_path = billing",
    "SELECT mydb.pg_catalog.set_config('search_path', 'billing, public', false)",
  ])("refuses moving search_path: %s", (sql) => {
    const f = extractSqlFacts(sql);
    expect(f.ok).toBe(false);
    expect(!f.ok && f.error).toMatch(/search_path to other schemas is not allowed through the gateway/);
  });

  it.each([
    "SET search_path = public",
    "SET search_path TO \"$user\", public",
    "SET search_path = pg_catalog, public, pg_temp",
    "SET search_path TO DEFAULT",
    "RESET search_path",
    "RESET ALL",
    "ALTER ROLE CURRENT_USER RESET search_path",
    "SELECT pg_catalog.set_config('search_path', '', false)",
    "SELECT set_config('search_path', 'PUBLIC, \"$user\"', false)",
  ])("allows a search_path that resolves as the default does, or less: %s", (sql) => {
    expect(extractSqlFacts(sql).ok).toBe(true);
  });

  it("keeps SET out of the template cache: an allowed value does not let another through", () => {
    expect(extractSqlFacts("SET search_path = 'public'").ok).toBe(true);
    expect(extractSqlFacts("SET search_path = 'billing'").ok).toBe(false);
  });

  // "$user" in the default search_path is the current role: after SET ROLE billing, `cards` is billing.cards.
  it.each([
    "SET ROLE billing",
    "SET LOCAL ROLE billing",
    "SET SESSION ROLE billing",
    "SET role = 'billing'",
    "set ROLE TO \"Billing\"",
    "SET SESSION AUTHORIZATION billing",
    "SET SESSION AUTHORIZATION 'billing'",
    "SET LOCAL SESSION AUTHORIZATION billing",
    "ALTER ROLE CURRENT_USER SET role = billing",
    "ALTER ROLE app IN DATABASE app SET role = billing",
    "ALTER DATABASE app SET role = billing",
    "SELECT set_config('role', 'billing', false)",
    "SELECT pg_catalog.set_config('ROLE', 'billing', true)",
    "SELECT set_config('role', 'NONE', false)",
    "SELECT set_config('session_authorization', 'billing', false)",
    "SELECT set_config('role', current_setting('app.role'), false)",
    "SELECT 1; SET ROLE billing",
  ])("refuses changing the role: %s", (sql) => {
    const f = extractSqlFacts(sql);
    expect(f).toMatchObject({ ok: false, refused: true });
    expect(!f.ok && f.error).toMatch(/changing the role \(SET ROLE, SET SESSION AUTHORIZATION\) is not allowed through the gateway/);
  });

  it.each([
    "RESET ROLE",
    "SET ROLE NONE",
    "SET ROLE 'none'",
    "SET role TO DEFAULT",
    "RESET SESSION AUTHORIZATION",
    "SET SESSION AUTHORIZATION DEFAULT",
    "ALTER ROLE CURRENT_USER RESET role",
    "SELECT set_config('role', 'none', false)",
  ])("allows putting the role back: %s", (sql) => {
    expect(extractSqlFacts(sql).ok).toBe(true);
  });

  it("keeps set_config('role', …) out of the template cache", () => {
    expect(extractSqlFacts("SELECT set_config('role', 'none', false)").ok).toBe(true);
    expect(extractSqlFacts("SELECT set_config('role', 'billing', false)").ok).toBe(false);
  });

  // pg_settings' rule runs set_config for an UPDATE; the server reports the change only at
  // ReadyForQuery, after a pipelined Query it lexes differently.
  it.each([
    "UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'",
    "update PG_SETTINGS set setting = 'billing, public' where name = 'search_path'",
    "UPDATE pg_catalog.pg_settings SET setting = 'SJIS' WHERE name = 'client_encoding'",
    "UPDATE mydb.pg_catalog.pg_settings s SET setting = 'off' WHERE s.name = 'standard_conforming_strings'",
    "UPDATE public.pg_settings SET setting = 'x'",
    "UPDATE pg_settings SET setting = 'x' FROM t WHERE pg_settings.name = t.name",
    "WITH u AS (UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings' RETURNING 1) SELECT * FROM u",
    "INSERT INTO pg_settings (name, setting) VALUES ('standard_conforming_strings', 'off')",
    "DELETE FROM pg_settings",
    "MERGE INTO pg_settings s USING t ON s.name = t.name WHEN MATCHED THEN UPDATE SET setting = t.v",
    "COPY pg_settings (name, setting) FROM STDIN",
    "PREPARE p (text, text) AS UPDATE pg_settings SET setting = $1 WHERE name = $2",
    "EXPLAIN ANALYZE UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'",
    "CREATE RULE r AS ON INSERT TO t DO ALSO UPDATE pg_settings SET setting = new.v WHERE name = new.n",
    "CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'; END",
    "SELECT 1; UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'",
    // ALTER ROLE|DATABASE … SET write these rows; later sessions start with them
    "INSERT INTO pg_db_role_setting VALUES (0, 10, '{role=billing}')",
    "UPDATE pg_catalog.pg_db_role_setting SET setconfig = '{standard_conforming_strings=off}'",
  ])("refuses writing to the settings relations: %s", (sql) => {
    const f = extractSqlFacts(sql);
    expect(f).toMatchObject({ ok: false, refused: true });
    expect(!f.ok && f.error).toMatch(/^writing to (pg_settings|pg_db_role_setting) is not allowed through the gateway/);
  });

  // PostgreSQL makes a simple view over pg_settings updatable, through pg_settings' rule
  it.each([
    "CREATE TEMP VIEW s AS SELECT name, setting FROM pg_settings",
    "CREATE OR REPLACE VIEW s AS SELECT * FROM pg_catalog.pg_settings WHERE name LIKE 'standard%'",
    "CREATE VIEW s AS SELECT * FROM (SELECT * FROM pg_settings) x",
  ])("refuses a view over pg_settings: %s", (sql) => {
    const f = extractSqlFacts(sql);
    expect(f).toMatchObject({ ok: false, refused: true });
    expect(!f.ok && f.error).toMatch(/^a view over pg_settings is not allowed through the gateway/);
  });

  it.each([
    "SELECT name, setting FROM pg_settings WHERE name = 'standard_conforming_strings'",
    "COPY (SELECT * FROM pg_settings) TO STDOUT",
    "CREATE MATERIALIZED VIEW m AS SELECT name, setting FROM pg_settings",
    "CREATE TABLE t AS SELECT * FROM pg_settings",
    "UPDATE settings SET setting = 'off' WHERE name = 'standard_conforming_strings'",
    "SELECT * FROM pg_db_role_setting",
    "CREATE VIEW settings AS SELECT name, setting FROM app_settings",
  ])("allows reading them: %s", (sql) => {
    expect(extractSqlFacts(sql).ok).toBe(true);
  });
});


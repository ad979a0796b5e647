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
});


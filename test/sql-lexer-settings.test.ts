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
});

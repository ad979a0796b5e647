// The literal-free cache key: texts that share a key must have the same facts, and anything
// the key's narrow scanner might split differently from PostgreSQL gets no key at all.

import { readFileSync } from "node:fs";
import { scanSync } from "libpg-query";
import { beforeAll, describe, expect, it } from "vitest";
import { extractSqlFacts, loadSqlParser } from "../runtime/facts/sql/index.js";
import { extractUncached } from "../runtime/facts/sql/statements.js";
import { singleStatementText, templateKey } from "../runtime/facts/sql/template-key.js";

beforeAll(loadSqlParser);

const corpus = (JSON.parse(readFileSync("test/fixtures/sql-attacks.json", "utf8")) as { sql: string }[]).map((e) => e.sql);

function withoutText(text: string) {
  const f = extractUncached(text);
  return f.ok ? f.statements.map(({ text: _t, ...rest }) => rest) : f;
}

/** Each literal token (found by the real lexer) replaced by another value of its kind. */
function vary(sql: string): string {
  const replacement: Record<string, string> = { ICONST: "987", FCONST: "0.25", SCONST: "'other'" };
  let tokens;
  try {
    tokens = scanSync(sql).tokens;
  } catch {
    return sql; // text the lexer itself rejects has no literals to vary
  }
  let out = "";
  let at = 0;
  for (const token of tokens) {
    const value = replacement[token.tokenName];
    if (value === undefined) continue;
    out += sql.slice(at, token.start) + value;
    at = token.end;
  }
  return out + sql.slice(at);
}

describe("templateKey", () => {
  it("shares a key between texts that differ only in literals", () => {
    expect(templateKey("SELECT abalance FROM pgbench_accounts WHERE aid = 41;")).toBe(
      templateKey("SELECT abalance FROM pgbench_accounts WHERE aid = 1234567;"),
    );
    expect(templateKey("UPDATE t SET name = 'it''s' WHERE id = 1.5e3")).toBe(templateKey("UPDATE t SET name = 'x' WHERE id = 2"));
  });

  it.each([
    ["a backslash in a string", "SELECT 'a\\'; DROP TABLE users; --'"],
    ["a comment", "SELECT 1 -- DROP"],
    ["a block comment", "SELECT /* x */ 1"],
    ["a dollar quote", "SELECT $$x$$"],
    ["a parameter", "SELECT * FROM t WHERE id = $1"],
    ["a quoted identifier", 'SELECT * FROM "Users"'],
    ["an escape string", "SELECT E'x'"],
    ["a bit string", "SELECT B'0101'"],
    ["a unicode string", "SELECT U&'x'"],
    ["two statements", "SELECT 1; SELECT 2"],
    ["non-ASCII text", "SELECT 'é'"],
    ["a hexadecimal integer", "SELECT 0x1F"],
    ["an underscored number", "SELECT 1_000"],
    ["an unterminated string", "SELECT 'abc"],
    ["a NUL", "SELECT '\0'"],
    ["a control character where a placeholder would be", "SELECT \u0001s"],
    ["a control character in a string", "SELECT 'a\u0001n'"],
    ["a vertical tab (whitespace to PostgreSQL 16 and later, not to 15)", "SELECT\v1"],
    ["an escape character", "SELECT 1 \u001b"],
  ])("gives no key for %s", (_why, text) => {
    expect(templateKey(text)).toBeUndefined();
  });

  it("keys texts with tabs, newlines, carriage returns and form feeds", () => {
    expect(templateKey("DELETE\tFROM t\r\nWHERE id =\f5")).toBe(templateKey("DELETE\tFROM t\r\nWHERE id =\f6"));
  });

  it("never shares a key between corpus statements whose facts differ", () => {
    const byKey = new Map<string, string>();
    let keyed = 0;
    for (const sql of [...corpus, ...corpus.map(vary)]) {
      const key = templateKey(sql);
      if (key === undefined) continue;
      keyed++;
      const first = byKey.get(key);
      if (first === undefined) byKey.set(key, sql);
      else expect(withoutText(sql), `${JSON.stringify(first)} ~ ${JSON.stringify(sql)}`).toEqual(withoutText(first));
    }
    expect(keyed).toBeGreaterThan(40);
  });

  it("slices the single statement's text as the parser does", () => {
    for (const text of ["SELECT 1", "  SELECT 1 ;  ", "SELECT 'a;b';", "\nSELECT 1\n"]) {
      const f = extractUncached(text);
      expect(f.ok && f.statements[0]!.text).toBe(singleStatementText(text));
    }
  });
});

describe("extractSqlFacts with the template cache", () => {
  it("answers a literal variant from the cache with its own text", () => {
    extractSqlFacts("DELETE FROM accounts WHERE id = 7");
    const f = extractSqlFacts("DELETE FROM accounts WHERE id = 8");
    expect(f).toEqual({ ok: true, statements: [expect.objectContaining({ command: "delete", hasWhere: true, text: "DELETE FROM accounts WHERE id = 8" })] });
  });

  it("cannot turn WHERE 1=1 into a real WHERE", () => {
    extractSqlFacts("DELETE FROM sessions WHERE 1=2");
    const f = extractSqlFacts("DELETE FROM sessions WHERE 1=1");
    expect(f.ok && f.statements[0]!.hasWhere).toBe(false);
  });

  it("does not answer a text the parser rejects from the template of one it accepts", () => {
    extractSqlFacts("DELETE FROM accounts WHERE id = 'x'");
    const f = extractSqlFacts("DELETE FROM accounts WHERE id = \u0001s");
    expect(f).toMatchObject({ ok: false, error: expect.stringMatching(/syntax error/) });
  });

  it("does not let a backslash trick hide behind a cached harmless statement", () => {
    extractSqlFacts("SELECT 'x'");
    const f = extractSqlFacts("SELECT 'a\\'; DROP TABLE users; --'");
    expect(f.ok && f.statements.map((s) => s.command)).toEqual(["select", "drop"]);
  });
});

// Attack corpus: statements written to slip past a policy, and look-alikes that must stay harmless.
// The corpus is data (fixtures/sql-attacks.json) so the engine tests can reuse it for decisions.
// Expectations: `command` for one-statement texts, `commands` (in order) for several; `tables`
// and `functions` are the exact union over the statements; `hasWhere` is false when any
// statement's is; `copy` is some statement's; `ok: false` means the text must not parse;
// `refused: true` means it parses (the server agrees) but is refused whatever the policy
// (docs/sql-facts.md: lexer settings, role, settings relations, builtins running hidden SQL).

import { readFileSync } from "node:fs";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractSqlFacts, loadSqlParser } from "../runtime/facts/sql/index.js";

interface AttackCase {
  sql: string;
  /** why the case is in the corpus, when not obvious */
  note?: string;
  expect: {
    ok?: boolean;
    refused?: boolean;
    command?: string;
    commands?: string[];
    tables?: string[];
    functions?: string[];
    hasWhere?: boolean;
    copy?: string;
  };
}

const corpus = JSON.parse(readFileSync(new URL("./fixtures/sql-attacks.json", import.meta.url), "utf8")) as AttackCase[];

beforeAll(async () => {
  await loadSqlParser();
});

describe("SQL attack corpus", () => {
  it("holds at least 70 statements", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(70);
  });

  it.each(corpus.map((c) => [c.sql, c] as const))("%s", (_sql, c) => {
    const facts = extractSqlFacts(c.sql);
    const want = c.expect;
    if (want.refused) {
      expect(facts).toMatchObject({ ok: false, refused: true });
      return;
    }
    if (want.ok === false) {
      expect(facts).toMatchObject({ ok: false });
      expect(facts.ok === false && facts.refused).toBeUndefined();
      return;
    }
    if (!facts.ok) throw new Error(`expected facts, got parse error: ${facts.error}`);
    const stmts = facts.statements;
    if (want.command !== undefined) {
      expect(stmts.map((s) => s.command)).toEqual([want.command]);
    }
    if (want.commands !== undefined) expect(stmts.map((s) => s.command)).toEqual(want.commands);
    if (want.tables !== undefined) expect(union(stmts.map((s) => s.tables))).toEqual(want.tables);
    if (want.functions !== undefined) expect(union(stmts.map((s) => s.functions))).toEqual(want.functions);
    if (want.hasWhere !== undefined) expect(stmts.every((s) => s.hasWhere)).toBe(want.hasWhere);
    if (want.copy !== undefined) expect(stmts.map((s) => s.copy)).toContain(want.copy);
  });
});

// The gateway must read the text as the server does. PostgreSQL's Parse message (no execution)
// tells whether the server's parser accepts a text and whether it holds several statements.
describe("the PostgreSQL server reads the corpus as the facts do", () => {
  const sql = postgres({ host: "127.0.0.1", port: 5432, user: "postgres", database: "test", max: 1, onnotice: () => {} });
  // Grammar newer than the server on this machine (PostgreSQL 15); the parser is PostgreSQL 18's.
  const newerSyntax = (text: string) => /NOT MATCHED BY SOURCE/i.test(text);

  beforeAll(async () => {
    try {
      await sql`SELECT 1`;
    } catch (error) {
      throw new Error(`this test needs PostgreSQL on 127.0.0.1:5432 (user postgres, database test): ${String(error)}`);
    }
    const [row] = await sql`SHOW standard_conforming_strings`;
    expect(row?.standard_conforming_strings, "the parser assumes standard_conforming_strings = on").toBe("on");
  });
  afterAll(() => sql.end());

  // a NUL character cannot travel in the protocol
  it.each(corpus.filter((c) => !c.sql.includes("\0")).map((c) => [c.sql, c] as const))("%s", async (text, c) => {
    const facts = extractSqlFacts(text);
    const server = await sql.unsafe(text).describe().then(
      () => "parsed",
      (error: { code?: string; message?: string }) =>
        error.code !== "42601" ? "parsed" : /multiple commands/.test(error.message ?? "") ? "several" : "syntax error",
    );
    if (!facts.ok && facts.refused) expect(server, facts.error).not.toBe("syntax error");
    else if (!facts.ok) expect(server).toBe("syntax error");
    else if (facts.statements.length > 1) expect(server).toBe("several");
    else if (!newerSyntax(text)) expect(server, c.expect.command).toBe("parsed");
  });
});

function union(sets: readonly (readonly string[])[]): string[] {
  return [...new Set(sets.flat())].sort();
}

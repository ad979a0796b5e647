// The pipeline barrier's parts without a server: which texts lex differently under another
// standard_conforming_strings or client encoding, which statements may run code, what the
// unnamed statement and portal may run, and when the expectation queue says code is unreported.

import { beforeAll, describe, expect, it } from "vitest";
import type { Decision, StatementDecision } from "../runtime/engine/types.js";
import { extractSqlFacts, loadSqlParser } from "../runtime/facts/sql/index.js";
import { ExpectationQueue, type StatementInfo } from "../runtime/postgres/expectations.js";
import { lexerSensitivity, mayRunCode, UnnamedStatements } from "../runtime/postgres/pipeline-barrier.js";

beforeAll(loadSqlParser);

const sensitivity = (text: string): string | undefined => lexerSensitivity(Buffer.from(text), () => text);

/** a StatementInfo whose decision carries the text's facts, as the engine's would */
function info(text: string): StatementInfo {
  const facts = extractSqlFacts(text);
  if (!facts.ok) throw new Error(facts.error);
  const statements: StatementDecision[] = facts.statements.map((s) => ({ ...s, effect: "allow", rules: [], reason: "" }));
  const decision: Decision = { effect: "allow", reason: "", rules: [], approvers: [], statements };
  return { text, decision };
}

describe("texts that lex differently under another setting", () => {
  it.each([
    ["SELECT 'a\\''; DROP TABLE victims; SET standard_conforming_strings = on; --'", /backslash in a '…' string/],
    ["SELECT 'a\\b'", /backslash/],
    ["SELECT N'a\\b'", /backslash/],
    ["SELECT 'a'\n'b\\c'", /backslash/],
    ["SELECT 'unterminated\\", /backslash/],
    ["SELECT 'café'", /non-ASCII/],
    ["SELECT 1 -- é", /non-ASCII/],
    ["SELECT E'ŕ\\'; DROP TABLE victims; --'", /non-ASCII/],
    [`SELECT '${"x".repeat(200)}é'`, /non-ASCII/],
    [`SELECT '${"x".repeat(200)}\\'`, /backslash/],
  ])("%s", (text, why) => {
    expect(sensitivity(text)).toMatch(why);
  });

  it.each([
    "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
    "SELECT E'a\\'b', e'\\n'",
    "SELECT $$a\\b$$, $q$\\$q$",
    "SELECT \"a\\b\" FROM t",
    "SELECT 1 -- \\",
    "SELECT 1 /* \\ */",
    "SELECT E'a'\n'b\\c'",
    `SELECT E'${"x".repeat(200)}\\n'`,
  ])("reads the same: %s", (text) => {
    expect(sensitivity(text)).toBeUndefined();
  });
});

describe("statements that may run code", () => {
  it.each([
    "SELECT f()",
    "SELECT 1 + 1",
    "SELECT '1'::int",
    "SELECT * FROM t",
    "INSERT INTO t VALUES (1)",
    "COMMIT",
    "SET CONSTRAINTS ALL IMMEDIATE",
    "DO $$ BEGIN END $$",
    "CALL p()",
    "EXECUTE s",
    "CREATE TABLE t (a int)",
    "LISTEN x",
    "",
    "-- only a comment",
  ])("%s", (text) => {
    expect(mayRunCode(text === "" || text.startsWith("--") ? { text, decision: { effect: "allow", reason: "", rules: [], approvers: [], statements: [] } } : info(text))).toBe(text !== "");
  });

  it.each(["BEGIN", "START TRANSACTION ISOLATION LEVEL SERIALIZABLE", "ROLLBACK", "SHOW search_path", "SET application_name = 'x'", "RESET ALL", "SELECT 1", "SELECT 'a', NULL, $1", "VALUES (1, 'x')"])(
    "runs none: %s",
    (text) => {
      expect(mayRunCode(info(text))).toBe(false);
    },
  );
});

describe("the unnamed statement and portal", () => {
  it("follows a batch message by message", () => {
    const u = new UnnamedStatements();
    expect(u.executes("")).toBe(false); // none yet
    u.parsed("", info("BEGIN"));
    expect(u.bound("", "", false)).toBe(false);
    expect(u.executes("")).toBe(false);
    u.parsed("", info("INSERT INTO t VALUES (1)"));
    expect(u.bound("", "", false)).toBe(true);
    expect(u.executes("")).toBe(true);
    u.parsed("", info("COMMIT"));
    expect(u.bound("", "", false)).toBe(true); // COMMIT runs deferred triggers
  });

  it("takes named statements and portals to run code", () => {
    const u = new UnnamedStatements();
    u.parsed("s1", info("BEGIN"));
    expect(u.bound("", "s1", false)).toBe(true);
    expect(u.executes("")).toBe(true);
    expect(u.executes("c1")).toBe(true);
  });

  it("after a Sync keeps only what every value of the batch allows (a skipped Parse leaves the one before)", () => {
    const u = new UnnamedStatements();
    u.parsed("", info("SELECT f()"));
    u.bound("", "", false);
    u.parsed("", info("BEGIN"));
    u.bound("", "", false);
    expect(u.executes("")).toBe(false);
    u.synced();
    expect(u.executes("")).toBe(true);
    expect(u.bound("", "", false)).toBe(true);
  });

  it("a simple Query drops both", () => {
    const u = new UnnamedStatements();
    u.parsed("", info("SELECT f()"));
    u.bound("", "", false);
    u.query();
    expect(u.executes("")).toBe(false);
    expect(u.bound("", "", false)).toBe(false);
  });
});

describe("code unreported in the expectation queue", () => {
  const query = (): { kind: "query"; info: StatementInfo; denied: null; started: number } => ({ kind: "query", info: info("SELECT 1"), denied: null, started: 0 });

  it("holds from the code to the ReadyForQuery of the next query or sync", () => {
    const q = new ExpectationQueue();
    expect(q.settingsUnreported).toBe(false);
    q.codeMayRun();
    q.push({ kind: "execute", portal: "", started: 0 });
    expect(q.settingsUnreported).toBe(true);
    q.push({ kind: "sync" });
    q.shift(); // CommandComplete
    expect(q.settingsUnreported).toBe(true);
    q.push({ kind: "parse", name: "", info: null, denied: null });
    q.push({ kind: "sync" });
    q.shift(); // ReadyForQuery of the first sync
    expect(q.settingsUnreported).toBe(false);
  });

  it("a query that runs code reports it itself", () => {
    const q = new ExpectationQueue();
    q.codeMayRun();
    q.push(query());
    expect(q.settingsUnreported).toBe(true);
    q.shift();
    expect(q.settingsUnreported).toBe(false);
  });

  it("a query skipped after an error hands its report to the Sync, or to the next boundary", () => {
    const q = new ExpectationQueue();
    q.push({ kind: "execute", portal: "", started: 0 });
    q.codeMayRun();
    q.push(query());
    q.push({ kind: "sync" });
    q.dropUntilSync();
    expect(q.settingsUnreported).toBe(true);
    q.shift();
    expect(q.settingsUnreported).toBe(false);

    q.push({ kind: "execute", portal: "", started: 0 });
    q.codeMayRun();
    q.push(query());
    q.dropUntilSync(); // no Sync sent yet
    expect(q.settingsUnreported).toBe(true);
    q.push({ kind: "sync" });
    expect(q.settingsUnreported).toBe(true);
    q.shift();
    expect(q.settingsUnreported).toBe(false);
  });
});

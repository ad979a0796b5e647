// `hoopgate explain` and `hoopgate diff` through the CLI, on the example policies.

import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const SAAS = "examples/saas-postgres";
const SUPPORT = JSON.stringify({ iss: "https://auth.acme-saas.dev", sub: "support-agent@prod", client_id: "support-agent", env: "prod" });
const DEPLOY = JSON.stringify({ iss: "https://token.actions.githubusercontent.com", sub: "repo:acme-saas/app:ref:refs/heads/main", repository: "acme-saas/app", ref: "refs/heads/main" });

function hoopgate(args: string[], cwd = process.cwd()) {
  return spawnSync(process.execPath, [join(process.cwd(), "bin/hoopgate.js"), ...args], { encoding: "utf8", cwd, env: { ...process.env, NO_COLOR: "1" } });
}

describe("hoopgate explain", () => {
  it("prints the decision as DESIGN.md §4's JSON", () => {
    const r = hoopgate(["explain", SAAS, "--subject", SUPPORT, "--connection", "app-db", "--sql", "SELECT 1; SELECT * FROM payment_methods", "--format", "json"]);
    // two statements: `deny when sql.statements > 1` holds for both, the payment rule for the second
    expect(r.status, r.stderr).toBe(1); // denied
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(out).sort()).toEqual(["approvers", "effect", "masks", "reason", "rules", "statements"]);
    expect(out).toMatchObject({
      effect: "deny",
      reason: "one statement per request",
      rules: ["support-reads-customers/deny#1", "support-reads-customers/deny#2"],
      approvers: [],
      statements: [
        { command: "select", tables: [], functions: [], effect: "deny", rules: ["support-reads-customers/deny#2"] },
        { command: "select", tables: ["payment_methods", "public.payment_methods"], effect: "deny", rules: ["support-reads-customers/deny#1", "support-reads-customers/deny#2"] },
      ],
    });
    expect(out.masks).toEqual(expect.arrayContaining([{ column: "customers.email", with: "partial(4)" }, { detect: "credit_card", with: "redact" }]));
  });

  it("shows who must approve a review", () => {
    const r = hoopgate(["explain", SAAS, "--subject", DEPLOY, "--connection", "app-db", "--sql", "DELETE FROM sessions", "--format", "json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ effect: "review", approvers: ["on-call"] });
  });

  it("evaluates a corpus with --sql-file, one JSON decision per line in order", () => {
    const dir = mkdtempSync(join(tmpdir(), "hoopgate-explain-"));
    const file = join(dir, "corpus.jsonl");
    writeFileSync(file, ["SELECT * FROM customers WHERE id = 1", "DROP TABLE customers", "SELECT * FROM payment_methods"].map((sql) => JSON.stringify({ sql })).join("\n"));
    const r = hoopgate(["explain", SAAS, "--subject", SUPPORT, "--connection", "app-db", "--sql-file", file]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { effect: string }).effect)).toEqual(["allow", "deny", "deny"]);
  });

  it("reads a compiled bundle and reports a refused connection", () => {
    const dir = mkdtempSync(join(tmpdir(), "hoopgate-explain-"));
    expect(hoopgate(["compile", SAAS, "-o", join(dir, "b.json")]).status).toBe(0);
    const r = hoopgate(["explain", "--bundle", join(dir, "b.json"), "--subject", SUPPORT, "--connection", "staging-db", "--sql", "SELECT 1", "--format", "json"]);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ effect: "refused" });
  });

  it("is a usage error without a subject", () => {
    const r = hoopgate(["explain", SAAS, "--connection", "app-db", "--sql", "SELECT 1"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--subject is required");
  });
});

describe("hoopgate diff", () => {
  function changedCopy(): string {
    const dir = mkdtempSync(join(tmpdir(), "hoopgate-diff-"));
    cpSync(SAAS, join(dir, "head"), { recursive: true });
    const policies = join(dir, "head", "policies.hoop");
    // the support agent may now also update tickets
    writeFileSync(policies, readFileSync(policies, "utf8").replace("allow when sql.command in [select, show]", "allow when sql.command in [select, show, update]"));
    return dir;
  }

  it("reports test and corpus decisions that change against a base directory", () => {
    const dir = changedCopy();
    const corpus = join(dir, "sessions.jsonl");
    writeFileSync(corpus, [
      { subject: JSON.parse(SUPPORT), connection: "app-db", sql: "UPDATE tickets SET status = 'closed' WHERE id = 3" },
      { subject: JSON.parse(SUPPORT), connection: "app-db", sql: "SELECT * FROM tickets" },
    ].map((c) => JSON.stringify(c)).join("\n"));
    const r = hoopgate(["diff", "--base", join(process.cwd(), SAAS), join(dir, "head"), "--corpus", corpus, "--format", "json"]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { evaluated: number; changes: { origin: string; sql: string; base: { effect: string }; head: { effect: string } }[] };
    expect(out.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ origin: `${corpus}:1`, base: expect.objectContaining({ effect: "deny" }), head: expect.objectContaining({ effect: "allow" }) }),
        expect.objectContaining({ origin: "test support-bot-looks-up-customers", sql: "UPDATE customers SET email = 'x@y.z' WHERE id = 1" }),
      ]),
    );
    expect(out.changes.some((c) => c.sql === "SELECT * FROM tickets")).toBe(false);
    expect(out.evaluated).toBeGreaterThanOrEqual(20);
  });

  it("compares against a git ref", () => {
    const r = hoopgate(["diff", "--base", "HEAD", SAAS]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^0 decision\(s\) change out of \d+ evaluated/m);
  });

  it("is a usage error for a base that is neither a directory nor a commit", () => {
    const r = hoopgate(["diff", "--base", "no-such-ref-or-dir", SAAS]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("neither a directory nor a git commit");
  });
});

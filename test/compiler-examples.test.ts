// The example policy sets compile deterministically, their tests pass through the CLI with
// the runtime engine, and every reporter's output is well-formed.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { compilePaths } from "../compiler/index.js";
import { validateBundle } from "../runtime/bundle/validate.js";

const EXAMPLES = ["examples/saas-postgres", "examples/platform-ci"];

function hoopgate(...args: string[]) {
  return spawnSync(process.execPath, ["bin/hoopgate.js", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
}

describe.each(EXAMPLES)("%s", (dir) => {
  it("checks clean", () => {
    const r = compilePaths([dir]);
    expect(r.diagnostics).toEqual([]);
    expect(() => validateBundle(JSON.parse(JSON.stringify(r.bundle)))).not.toThrow();
  });

  it("compiles to a byte-identical bundle every time", () => {
    const out = mkdtempSync(join(tmpdir(), "hoopgate-compile-"));
    const a = hoopgate("compile", dir, "-o", join(out, "a.json"));
    const b = hoopgate("compile", dir, "-o", join(out, "b.json"));
    expect(a.status, a.stderr).toBe(0);
    expect(b.status, b.stderr).toBe(0);
    expect(readFileSync(join(out, "a.json"))).toEqual(readFileSync(join(out, "b.json")));
  });

  it("passes its policy tests", () => {
    const r = hoopgate("test", dir);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed/);
  });

  it("writes valid JUnit XML", () => {
    const r = hoopgate("test", dir, "--reporter", "junit");
    expect(r.status, r.stderr).toBe(0);
    expect(XMLValidator.validate(r.stdout)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(r.stdout) as {
      testsuites: { "@_tests": string; "@_failures": string; testsuite: unknown };
    };
    expect(Number(doc.testsuites["@_tests"])).toBeGreaterThan(5);
    expect(doc.testsuites["@_failures"]).toBe("0");
  });
});

describe("failing policy tests", () => {
  const failing = "test/fixtures/failing-test";

  it("pretty reporter exits 1 and locates the failing expect", () => {
    const r = hoopgate("test", failing);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("expected allow, got deny");
    expect(r.stdout).toMatch(/1 passed, 1 failed/);
  });

  it("github reporter annotates the failing expect line", () => {
    const r = hoopgate("test", failing, "--reporter", "github");
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^::error file=test\/fixtures\/failing-test\/policy\.hoop,line=22,col=3,title=hoopgate test drops-are-allowed::/m);
  });

  it("junit reporter records the failure", () => {
    const r = hoopgate("test", failing, "--reporter", "junit");
    expect(XMLValidator.validate(r.stdout)).toBe(true);
    expect(r.stdout).toContain('<failure message="expected allow, got deny"');
  });

  it("json reporter is machine-readable", () => {
    const r = hoopgate("test", failing, "--reporter", "json");
    const report = JSON.parse(r.stdout) as { passed: number; failed: number; cases: { passed: boolean; rules: string[] }[] };
    expect(report).toMatchObject({ passed: 1, failed: 1 });
    expect(report.cases[1]!.rules).toEqual(["no-drops"]);
  });

  it("--coverage lists rules no test exercised and --min-coverage fails under it", () => {
    const r = hoopgate("test", "examples/saas-postgres", "--coverage", "--min-coverage", "100");
    expect(r.stderr).toMatch(/coverage: \d+\/\d+ rules exercised/);
    expect(r.stderr).toContain("not exercised:");
    expect(r.status).toBe(1);
  });
});

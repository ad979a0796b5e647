// Runs a directory's policy tests at synth time. The test runner is async (the SQL and shell
// parsers are WebAssembly, loaded asynchronously) while construct constructors are not, so the
// tests run in a child process through the project's own CLI, `hoopgate test --reporter json`,
// exactly as CI runs them; synth waits for it and fails on any failing case.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TestReport } from "../compiler/test-runner.js";
import { hoopgatePackageRoot } from "./package-root.js";

export function runPolicyTestsSync(path: string, cwd: string): void {
  const cli = hoopgateCli();
  const run = spawnSync(process.execPath, [cli, "test", "--reporter", "json", path], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) throw new Error(`could not run the policy tests (${cli}): ${run.error.message}`);
  const report = parseReport(run.stdout);
  if (report === undefined) {
    throw new Error(`the policy test runner (${cli} test ${path}) exited with ${run.status ?? run.signal} and no report:\n${run.stderr.trim()}`);
  }
  if (report.cases.length === 0) throw new Error(`no policy tests found in ${path}`);
  const failed = report.cases.filter((c) => !c.passed);
  if (failed.length > 0 || run.status !== 0) {
    const lines = failed.map((c) => `${c.file}:${c.line}:${c.column}: test ${c.test}: expected ${c.expected}, got ${c.actual}${c.reason ? ` (${c.reason})` : ""}`);
    throw new Error(`policy tests failed in ${path} (${failed.length} of ${report.cases.length}):\n${lines.join("\n")}${run.stderr.trim() ? `\n${run.stderr.trim()}` : ""}`);
  }
}

function parseReport(stdout: string): TestReport | undefined {
  try {
    const report = JSON.parse(stdout) as Partial<TestReport>;
    return typeof report.failed === "number" && Array.isArray(report.cases) ? (report as TestReport) : undefined;
  } catch {
    return undefined;
  }
}

/** `bin/hoopgate.js` of this package. */
function hoopgateCli(): string {
  const cli = join(hoopgatePackageRoot(import.meta.url), "bin", "hoopgate.js");
  if (!existsSync(cli)) throw new Error(`cannot run the policy tests: ${cli} is missing`);
  return cli;
}

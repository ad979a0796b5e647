import { writeFileSync } from "node:fs";
import { compilePaths } from "../../compiler/index.js";
import { githubReport } from "../../compiler/reporters/github.js";
import { jsonReport } from "../../compiler/reporters/json.js";
import { junitReport } from "../../compiler/reporters/junit.js";
import { prettyReport } from "../../compiler/reporters/pretty.js";
import { runProgramTests } from "../../compiler/test-runner.js";
import { wantColor } from "../../dsl/render-diagnostic.js";
import { oneOf, parse, UsageError } from "../args.js";
import { countLine, printDiagnostics } from "../output.js";

export const summary = "run the policy tests (--reporter pretty|junit|github|json, --coverage [--min-coverage PCT])";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    reporter: { type: "string" },
    coverage: { type: "boolean" },
    "min-coverage": { type: "string" },
    output: { type: "string", short: "o" },
  });
  const reporter = oneOf(values.reporter, ["pretty", "junit", "github", "json"], "--reporter", "pretty");
  const minCoverage = values["min-coverage"] === undefined ? undefined : Number(values["min-coverage"]);
  if (minCoverage !== undefined && !(minCoverage >= 0 && minCoverage <= 100)) throw new UsageError("--min-coverage takes a percentage 0–100");

  const result = compilePaths(positionals);
  printDiagnostics(result.diagnostics, result.sources);
  if (!result.bundle || !result.program) {
    process.stderr.write(`✗ ${countLine(result.diagnostics)}: tests not run\n`);
    return 1;
  }
  const report = await runProgramTests(result.program, result.bundle);
  printDiagnostics(report.warnings, result.sources);
  const text =
    reporter === "junit" ? junitReport(report)
    : reporter === "github" ? githubReport(report)
    : reporter === "json" ? jsonReport(report)
    : prettyReport(report, wantColor(process.stdout));
  if (values.output) {
    writeFileSync(values.output, `${text}\n`);
  } else process.stdout.write(`${text}\n`);

  let status = report.failed > 0 || report.cases.length === 0 ? 1 : 0;
  if (report.cases.length === 0) process.stderr.write("✗ no policy tests found\n");
  if (values.coverage || minCoverage !== undefined) {
    const covered = report.coverage.filter((r) => r.covered).length;
    const pct = report.coverage.length === 0 ? 100 : (100 * covered) / report.coverage.length;
    const lines = [`coverage: ${covered}/${report.coverage.length} rules exercised (${pct.toFixed(1)}%)`];
    for (const r of report.coverage.filter((r) => !r.covered)) lines.push(`  not exercised: ${r.id} at ${r.source}`);
    process.stderr.write(`${lines.join("\n")}\n`);
    if (minCoverage !== undefined && pct < minCoverage) {
      process.stderr.write(`✗ coverage ${pct.toFixed(1)}% is under --min-coverage ${minCoverage}%\n`);
      status = 1;
    }
  }
  return status;
}

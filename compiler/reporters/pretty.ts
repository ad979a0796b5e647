import pc from "picocolors";
import type { TestReport } from "../test-runner.js";

export function prettyReport(report: TestReport, color: boolean): string {
  const c = pc.createColors(color);
  const out: string[] = [];
  let current = "";
  for (const k of report.cases) {
    if (k.test !== current) {
      current = k.test;
      out.push(c.bold(k.test));
    }
    if (k.passed) out.push(`  ${c.green("✓")} ${k.title}`);
    else {
      out.push(`  ${c.red("✗")} ${k.title}`);
      out.push(`      ${c.dim(`${k.file}:${k.line}:${k.column}`)} expected ${c.bold(k.expected)}, got ${c.bold(k.actual)}${k.reason ? ` — ${k.reason}` : ""}${k.rules.length ? ` (rules: ${k.rules.join(", ")})` : ""}`);
    }
  }
  out.push("", `${report.passed} passed, ${report.failed} failed`);
  return out.join("\n");
}

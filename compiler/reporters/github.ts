// GitHub Actions workflow commands: an `::error` annotation on each failing `expect` line.

import type { TestReport } from "../test-runner.js";

export function githubReport(report: TestReport): string {
  const out: string[] = [];
  for (const k of report.cases) {
    if (k.passed) continue;
    const msg = `expected ${k.expected}, got ${k.actual}${k.reason ? ` — ${k.reason}` : ""}`;
    out.push(`::error file=${prop(k.file)},line=${k.line},col=${k.column},title=${prop(`hoopgate test ${k.test}`)}::${data(`${k.title}: ${msg}`)}`);
  }
  out.push(`${report.passed} passed, ${report.failed} failed`);
  return out.join("\n");
}

function data(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function prop(s: string): string {
  return data(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

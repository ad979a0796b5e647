// JUnit XML as CI systems read it: one <testsuite> per `test` block, one <testcase> per expectation.

import type { CaseResult, TestReport } from "../test-runner.js";

export function junitReport(report: TestReport): string {
  const suites = new Map<string, CaseResult[]>();
  for (const k of report.cases) suites.set(k.test, [...(suites.get(k.test) ?? []), k]);
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="hoopgate" tests="${report.cases.length}" failures="${report.failed}" errors="0">`,
  ];
  for (const [name, cases] of suites) {
    const failures = cases.filter((k) => !k.passed).length;
    lines.push(`  <testsuite name="${xml(name)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" file="${xml(cases[0]!.file)}">`);
    for (const k of cases) {
      const attrs = `name="${xml(k.title)}" classname="${xml(name)}" file="${xml(k.file)}" line="${k.line}"`;
      if (k.passed) lines.push(`    <testcase ${attrs}/>`);
      else {
        const message = `expected ${k.expected}, got ${k.actual}`;
        lines.push(`    <testcase ${attrs}>`);
        lines.push(`      <failure message="${xml(message)}" type="PolicyTestFailure">${xml(`${k.file}:${k.line}:${k.column}: ${message}${k.reason ? ` — ${k.reason}` : ""}`)}</failure>`);
        lines.push(`    </testcase>`);
      }
    }
    lines.push(`  </testsuite>`);
  }
  lines.push(`</testsuites>`);
  return lines.join("\n");
}

function xml(s: string): string {
  // Characters XML 1.0 cannot hold at all are dropped rather than escaped.
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

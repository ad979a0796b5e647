import type { TestReport } from "../test-runner.js";

export function jsonReport(report: TestReport): string {
  return JSON.stringify(report, null, 2);
}

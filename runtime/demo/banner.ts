// The text `hoopgate demo` prints once everything is up.

import type { DemoStatement } from "./scenario.js";
import type { StatementResult } from "./try-statements.js";

export interface BannerInput {
  psql: string;
  connection: string;
  subject: string;
  postgresPort: number;
  issuerUrl: string;
  configFile: string;
  auditFile: string;
  statements: readonly DemoStatement[];
  results: readonly StatementResult[];
}

export function demoBanner(input: BannerInput): string {
  const out = [
    "hoopgate demo is running",
    "",
    `  embedded PostgreSQL (PGlite)  127.0.0.1:${input.postgresPort}, seeded with fake customers`,
    `  dev token issuer              ${input.issuerUrl}`,
    `  gateway config                ${input.configFile}`,
    `  audit log                     ${input.auditFile}`,
    "",
    `Connect as ${input.subject} to connection "${input.connection}":`,
    "",
    `  ${input.psql}`,
    "",
    "Statements to try:",
  ];
  input.statements.forEach((statement, i) => {
    out.push("", `  ${i + 1}. ${statement.outcome}: ${statement.why}`, `     ${statement.sql}`);
    const result = input.results[i];
    if (result !== undefined) out.push(...indent(describe(result), "     → "));
  });
  out.push("", "Press Ctrl-C to stop.");
  return `${out.join("\n")}\n`;
}

function describe(result: StatementResult): string[] {
  if (!result.ok) {
    return [`ERROR ${result.code}: ${result.message}`, ...(result.detail !== undefined ? [`DETAIL: ${result.detail}`] : [])];
  }
  const widths = result.columns.map((c, i) => Math.max(c.length, ...result.rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ").trimEnd();
  return [line(result.columns), widths.map((w) => "-".repeat(w)).join("-+-"), ...result.rows.map(line)];
}

function indent(lines: string[], first: string): string[] {
  const rest = " ".repeat(first.length);
  return lines.map((l, i) => `${i === 0 ? first : rest}${l}`);
}

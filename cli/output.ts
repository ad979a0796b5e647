// Terminal output shared by the commands: diagnostics like a compiler, colors only on a TTY
// without NO_COLOR.

import type { Diagnostic } from "../dsl/diagnostic.js";
import { renderDiagnostics, wantColor } from "../dsl/render-diagnostic.js";

export function printDiagnostics(diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, string>): void {
  if (diagnostics.length === 0) return;
  process.stderr.write(`${renderDiagnostics(diagnostics, { color: wantColor(process.stderr), sources })}\n`);
}

export function countLine(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  return `${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`;
}

export function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

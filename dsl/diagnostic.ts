// Typed diagnostics shared by the parser and the compiler: a stable code, a severity,
// a message and the span it points at. Rendering lives in dsl/render-diagnostic.ts.

import type { Span } from "./ast.js";

export type Severity = "error" | "warning";

export interface Diagnostic {
  /** stable code, e.g. `HG0001`; documented in docs/diagnostics.md */
  code: string;
  severity: Severity;
  message: string;
  span: Span;
  /** what was expected (parse errors) */
  expected?: string[];
  /** a did-you-mean or other fix */
  help?: string;
  /** related locations, e.g. the first declaration of a duplicate */
  related?: { message: string; span: Span }[];
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Sort by file, then position, then code: output order never depends on check order. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort(
    (a, b) =>
      (a.span.file < b.span.file ? -1 : a.span.file > b.span.file ? 1 : 0) ||
      a.span.start.offset - b.span.start.offset ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
}

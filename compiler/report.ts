// A diagnostics collector with a did-you-mean helper, shared by the compiler passes.

import { closest, distance } from "fastest-levenshtein";
import type { Span } from "../dsl/ast.js";
import type { Diagnostic } from "../dsl/diagnostic.js";
import type { CodeValue } from "./codes.js";

export class Reporter {
  readonly diagnostics: Diagnostic[] = [];

  error(code: CodeValue, span: Span, message: string, extra: Partial<Diagnostic> = {}): void {
    this.diagnostics.push({ code, severity: "error", message, span, ...extra });
  }

  warn(code: CodeValue, span: Span, message: string, extra: Partial<Diagnostic> = {}): void {
    this.diagnostics.push({ code, severity: "warning", message, span, ...extra });
  }
}

/** `did you mean "x"?` when a candidate is close enough to be a likely typo. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  if (list.length === 0) return undefined;
  const best = closest(word, list);
  const limit = Math.max(2, Math.floor(best.length / 3));
  return distance(word, best) <= limit ? `did you mean \`${best}\`?` : undefined;
}

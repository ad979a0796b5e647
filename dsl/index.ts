// The public API of the `.hoop` front end: parse, format, diagnostics.

export type * from "./ast.js";
export type { Diagnostic, Severity } from "./diagnostic.js";
export { hasErrors, sortDiagnostics } from "./diagnostic.js";
export { renderDiagnostic, renderDiagnostics, wantColor, type RenderOptions } from "./render-diagnostic.js";
export { parseSource, PARSE_CODES, type ParseResult } from "./parse.js";
export { formatSource } from "./format.js";
export { formatExpr, formatString } from "./format-expr.js";

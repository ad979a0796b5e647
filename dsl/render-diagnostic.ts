// Renders a diagnostic like a good compiler: `file:line:col: error[CODE]: message`, a code
// frame with a caret under the span, what was expected, and a help line.

import pc from "picocolors";
import type { Diagnostic } from "./diagnostic.js";

export interface RenderOptions {
  color: boolean;
  /** file path → text, for the code frame; a diagnostic whose file is missing has no frame */
  sources: ReadonlyMap<string, string>;
}

export function renderDiagnostic(d: Diagnostic, opts: RenderOptions): string {
  const c = pc.createColors(opts.color);
  const sev = d.severity === "error" ? c.red(c.bold("error")) : c.yellow(c.bold("warning"));
  const loc = `${d.span.file}:${d.span.start.line}:${d.span.start.column}`;
  const out = [`${c.bold(loc)}: ${sev}[${d.code}]: ${c.bold(d.message)}`];
  const text = opts.sources.get(d.span.file);
  if (text !== undefined) out.push(codeFrame(text, d, c));
  if (d.expected && d.expected.length > 0) out.push(`  = expected ${d.expected.join(", ")}`);
  for (const r of d.related ?? []) {
    out.push(`  = note: ${r.message} at ${r.span.file}:${r.span.start.line}:${r.span.start.column}`);
  }
  if (d.help) out.push(`  = help: ${d.help}`);
  return out.join("\n");
}

function codeFrame(text: string, d: Diagnostic, c: ReturnType<typeof pc.createColors>): string {
  const lines = text.split(/\r?\n/);
  const { line, column } = d.span.start;
  const src = lines[line - 1] ?? "";
  const gutter = String(line).length;
  const pad = " ".repeat(gutter);
  const sameLine = d.span.end.line === line;
  const width = Math.max(1, sameLine ? d.span.end.column - column : src.length - column + 1);
  const caretColor = d.severity === "error" ? c.red : c.yellow;
  const frame = [`${pad} ${c.dim("|")}`];
  if (line > 1 && lines[line - 2]?.trim()) frame.push(`${c.dim(String(line - 1).padStart(gutter))} ${c.dim("|")} ${lines[line - 2]}`);
  frame.push(`${c.dim(String(line))} ${c.dim("|")} ${src}`);
  frame.push(`${pad} ${c.dim("|")} ${" ".repeat(Math.max(0, column - 1))}${caretColor("^".repeat(width))}`);
  return frame.join("\n");
}

export function renderDiagnostics(ds: readonly Diagnostic[], opts: RenderOptions): string {
  return ds.map((d) => renderDiagnostic(d, opts)).join("\n\n");
}

/** Colors on a TTY unless NO_COLOR is set (https://no-color.org). */
export function wantColor(stream: NodeJS.WriteStream): boolean {
  return !process.env.NO_COLOR && stream.isTTY === true;
}

// The compiler's entry points: sources → diagnostics and, when clean, the bundle.

import type { SourceFile } from "../dsl/ast.js";
import { sortDiagnostics, type Diagnostic } from "../dsl/diagnostic.js";
import { parseSource } from "../dsl/parse.js";
import type { Bundle } from "../runtime/bundle/format.js";
import { analyzeProgram } from "./analysis.js";
import { checkProgram } from "./check.js";
import { Code } from "./codes.js";
import { lowerProgram } from "./lower.js";
import type { Program } from "./program.js";
import { Reporter } from "./report.js";
import { readSources, type LoadedSource } from "./sources.js";

export interface CompileResult {
  /** absent when there are errors */
  bundle?: Bundle;
  /** the checked program behind the bundle (policy tests run over it) */
  program?: Program;
  diagnostics: Diagnostic[];
  /** file path as shown in diagnostics → text */
  sources: ReadonlyMap<string, string>;
}

/** Every `*.hoop` below each path; paths in diagnostics are relative to `cwd`. */
export function compilePaths(paths: string[], options: { cwd?: string } = {}): CompileResult {
  return compileSources(readSources(paths, options.cwd ?? process.cwd()));
}

export function compileSources(sources: readonly LoadedSource[]): CompileResult {
  const rep = new Reporter();
  const texts = new Map(sources.map((s) => [s.path, s.text]));
  if (sources.length === 0) {
    rep.error(Code.NoFiles, { file: "<input>", start: { offset: 0, line: 1, column: 1 }, end: { offset: 0, line: 1, column: 1 } }, "no .hoop files found");
    return { diagnostics: rep.diagnostics, sources: texts };
  }
  const files: SourceFile[] = [];
  for (const s of sources) {
    const parsed = parseSource(s.path, s.text);
    rep.diagnostics.push(...parsed.diagnostics);
    if (parsed.file) files.push(parsed.file);
  }
  const program = checkProgram(files, rep);
  if (program) analyzeProgram(program, rep);
  const failed = files.length < sources.length || !program || rep.diagnostics.some((d) => d.severity === "error");
  const diagnostics = sortDiagnostics(rep.diagnostics);
  if (failed || !program) return { diagnostics, sources: texts };
  return { bundle: lowerProgram(program, texts), program, diagnostics, sources: texts };
}

export { signBundle } from "./sign.js";
export type { Program } from "./program.js";

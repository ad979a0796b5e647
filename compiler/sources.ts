// Finds and reads the `.hoop` files to compile: every `*.hoop` below each given path,
// in a stable order, shown relative to the working directory.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

export interface LoadedSource {
  /** as shown in diagnostics: relative to cwd when below it */
  path: string;
  text: string;
}

export class SourceError extends Error {}

export function readSources(paths: readonly string[], cwd: string): LoadedSource[] {
  const files = new Set<string>();
  for (const p of paths.length > 0 ? paths : ["."]) {
    const abs = resolve(cwd, p);
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw new SourceError(`${p}: no such file or directory`);
    }
    if (st.isDirectory()) walk(abs, files);
    else files.add(abs);
  }
  return [...files].sort().map((abs) => {
    const rel = relative(cwd, abs);
    return { path: rel.startsWith("..") ? abs : rel, text: readFileSync(abs, "utf8") };
  });
}

function walk(dir: string, out: Set<string>): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile() && entry.name.endsWith(".hoop")) out.add(full);
  }
}

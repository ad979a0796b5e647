// Where `explain` and `diff` get their engine: .hoop paths compiled on the fly, or a bundle file.

import { readFileSync } from "node:fs";
import { compilePaths } from "../compiler/index.js";
import { loadEngine, type Engine } from "../runtime/engine/index.js";
import { jsonObjectFlag, UsageError } from "./args.js";
import { countLine, printDiagnostics } from "./output.js";

export async function engineFrom(paths: string[], bundleFile: string | undefined, cwd = process.cwd()): Promise<Engine | undefined> {
  if (bundleFile) {
    const text = readFileSync(bundleFile, "utf8").trim();
    // A signed bundle is a JWS: explaining it needs only its payload, which loadEngine validates.
    const json = text.startsWith("{") ? JSON.parse(text) : JSON.parse(Buffer.from(text.split(".")[1] ?? "", "base64url").toString("utf8"));
    return loadEngine(json);
  }
  const result = compilePaths(paths, { cwd });
  if (!result.bundle) {
    printDiagnostics(result.diagnostics, result.sources);
    process.stderr.write(`✗ ${countLine(result.diagnostics)}\n`);
    return undefined;
  }
  return loadEngine(result.bundle);
}

export function parseSubject(text: string | undefined): Record<string, unknown> {
  if (!text) throw new UsageError('--subject is required, e.g. --subject \'{"iss":"https://…","sub":"…"}\'');
  return jsonObjectFlag("--subject", text, "a JSON object of token claims");
}

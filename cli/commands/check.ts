import { compilePaths } from "../../compiler/index.js";
import { hasErrors } from "../../dsl/diagnostic.js";
import { oneOf, parse } from "../args.js";
import { countLine, printDiagnostics, writeJson } from "../output.js";

export const summary = "check .hoop files: every error and warning, located";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { format: { type: "string" } });
  const format = oneOf(values.format, ["pretty", "json"], "--format", "pretty");
  const result = compilePaths(positionals);
  const failed = hasErrors(result.diagnostics);
  if (format === "json") writeJson({ ok: !failed, diagnostics: result.diagnostics });
  else {
    printDiagnostics(result.diagnostics, result.sources);
    process.stderr.write(`${failed ? "✗" : "✓"} ${result.sources.size} file(s): ${countLine(result.diagnostics)}\n`);
  }
  return failed ? 1 : 0;
}

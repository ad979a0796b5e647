import { writeFileSync } from "node:fs";
import { readSources } from "../../compiler/sources.js";
import { formatSource } from "../../dsl/format.js";
import { parseSource } from "../../dsl/parse.js";
import { parse, UsageError } from "../args.js";
import { printDiagnostics } from "../output.js";

export const summary = "print the canonical form of .hoop files (--check fails on a difference, --write rewrites)";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { check: { type: "boolean" }, write: { type: "boolean" } });
  if (values.check && values.write) throw new UsageError("--check and --write are exclusive");
  const sources = readSources(positionals, process.cwd());
  let status = 0;
  for (const s of sources) {
    const parsed = parseSource(s.path, s.text);
    if (!parsed.file) {
      printDiagnostics(parsed.diagnostics, new Map([[s.path, s.text]]));
      status = 1;
      continue;
    }
    const formatted = formatSource(parsed.file);
    if (values.check) {
      if (formatted !== s.text) {
        process.stderr.write(`${s.path}: not formatted (run hoopgate fmt --write)\n`);
        status = 1;
      }
    } else if (values.write) {
      if (formatted !== s.text) {
        writeFileSync(s.path, formatted);
        process.stderr.write(`formatted ${s.path}\n`);
      }
    } else process.stdout.write(sources.length > 1 ? `# ${s.path}\n${formatted}\n` : formatted);
  }
  return status;
}

import { readFileSync, writeFileSync } from "node:fs";
import { compilePaths, signBundle } from "../../compiler/index.js";
import { canonicalJson } from "../../runtime/bundle/canonical.js";
import { hasErrors } from "../../dsl/diagnostic.js";
import { parse, UsageError } from "../args.js";
import { countLine, printDiagnostics } from "../output.js";

export const summary = "compile .hoop files to a bundle (-o FILE), optionally signed (--sign KEY.pem --kid ID)";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    output: { type: "string", short: "o" },
    sign: { type: "string" },
    kid: { type: "string" },
  });
  if (values.sign && !values.kid) throw new UsageError("--sign needs --kid ID (the key id the gateway trusts)");
  const result = compilePaths(positionals);
  printDiagnostics(result.diagnostics, result.sources);
  if (!result.bundle || hasErrors(result.diagnostics)) {
    process.stderr.write(`✗ ${countLine(result.diagnostics)}: no bundle written\n`);
    return 1;
  }
  const text = values.sign
    ? signBundle(result.bundle, readFileSync(values.sign, "utf8"), values.kid!)
    : canonicalJson(result.bundle);
  if (values.output && values.output !== "-") {
    writeFileSync(values.output, `${text}\n`);
    process.stderr.write(`✓ ${values.output}: ${result.bundle.policies.length} policies, sha256 ${result.bundle.sha256}${values.sign ? `, signed by ${values.kid}` : ""}\n`);
  } else process.stdout.write(`${text}\n`);
  return 0;
}

import { readFileSync, writeFileSync } from "node:fs";
import { compilePaths, signBundle } from "../../compiler/index.js";
import { canonicalJson } from "../../runtime/bundle/canonical.js";
import { hasErrors } from "../../dsl/diagnostic.js";
import { parse, UsageError } from "../args.js";
import { countLine, printDiagnostics } from "../output.js";

export const summary = "compile .hoop files to a bundle (-o FILE), optionally signed (--sign KEY.pem --kid ID [--issued-at SECONDS|none])";

/**
 * The signed issue time (`iat`) of a signed bundle: a gateway refuses a bundle dated before the
 * one it has in force (rollback). Default now, or SOURCE_DATE_EPOCH when set (reproducible
 * builds); `none` leaves it out, and the JWS then depends only on the bundle and the key.
 */
function issuedAt(flag: string | undefined): number | undefined {
  if (flag === "none") return undefined;
  const text = flag ?? process.env.SOURCE_DATE_EPOCH;
  if (text === undefined || text === "") return Math.floor(Date.now() / 1000);
  if (!/^\d{1,12}$/.test(text)) throw new UsageError(`${flag === undefined ? "SOURCE_DATE_EPOCH" : "--issued-at"} must be whole seconds since the epoch${flag === undefined ? "" : " or none"}, got "${text}"`);
  return Number(text);
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    output: { type: "string", short: "o" },
    sign: { type: "string" },
    kid: { type: "string" },
    "issued-at": { type: "string" },
  });
  if (values.sign && !values.kid) throw new UsageError("--sign needs --kid ID (the key id the gateway trusts)");
  if (!values.sign && values["issued-at"] !== undefined) throw new UsageError("--issued-at is for signed bundles: add --sign KEY.pem --kid ID");
  const iat = values.sign ? issuedAt(values["issued-at"]) : undefined;
  const result = compilePaths(positionals);
  printDiagnostics(result.diagnostics, result.sources);
  if (!result.bundle || hasErrors(result.diagnostics)) {
    process.stderr.write(`✗ ${countLine(result.diagnostics)}: no bundle written\n`);
    return 1;
  }
  const text = values.sign
    ? signBundle(result.bundle, readFileSync(values.sign, "utf8"), values.kid!, iat === undefined ? {} : { issuedAt: iat })
    : canonicalJson(result.bundle);
  if (values.output && values.output !== "-") {
    writeFileSync(values.output, `${text}\n`);
    process.stderr.write(`✓ ${values.output}: ${result.bundle.policies.length} policies, sha256 ${result.bundle.sha256}${values.sign ? `, signed by ${values.kid}${iat === undefined ? "" : `, issued at ${new Date(iat * 1000).toISOString()}`}` : ""}\n`);
  } else process.stdout.write(`${text}\n`);
  return 0;
}

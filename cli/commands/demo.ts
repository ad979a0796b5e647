import { generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { JWK } from "jose";
import { compilePaths, signBundle } from "../../compiler/index.js";
import { hasErrors } from "../../dsl/diagnostic.js";
import { DEMO_POLICY_DIR, startDemo } from "../../runtime/demo/index.js";
import { createLogger } from "../../runtime/log.js";
import { parse, UsageError } from "../args.js";
import { countLine, printDiagnostics } from "../output.js";
import { untilSignal } from "../signals.js";

export const summary = "embedded PostgreSQL with fake PII, token issuer and gateway; prints a psql line to try";

const BUNDLE_KID = "demo";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    "state-dir": { type: "string" },
    "exit-after-ready": { type: "boolean" },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const compiled = compilePaths([join(packageRoot(), DEMO_POLICY_DIR)]);
  if (!compiled.bundle || hasErrors(compiled.diagnostics)) {
    printDiagnostics(compiled.diagnostics, compiled.sources);
    process.stderr.write(`✗ the demo policy does not compile (${countLine(compiled.diagnostics)})\n`);
    return 1;
  }
  // A fresh signing key per run: the demo gateway trusts only the bundle it was started with.
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const bundle = signBundle(compiled.bundle, privateKey.export({ format: "pem", type: "pkcs8" }).toString(), BUNDLE_KID);
  const demo = await startDemo({
    bundle,
    bundleKey: { kid: BUNDLE_KID, jwk: publicKey.export({ format: "jwk" }) as JWK },
    stateDir: values["state-dir"] ?? ".hoopgate",
    logger: createLogger({ level: "warn" }),
  });
  process.stdout.write(demo.banner);
  if (!values["exit-after-ready"]) await untilSignal();
  await demo.close();
  return 0;
}

/** The directory holding examples/: two levels up from cli/commands, three from dist/cli/commands. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, DEMO_POLICY_DIR))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${DEMO_POLICY_DIR} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

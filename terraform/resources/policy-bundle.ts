// data "hoopgate_policy_bundle": compiles a directory of .hoop files at plan time (optionally
// running their tests and signing the result). Any policy error or failing test is a
// terraform error whose text is the compiler's `file:line:col` message.

import { renderDiagnostic } from "../../dsl/render-diagnostic.js";
import { canonicalJson } from "../../runtime/bundle/canonical.js";
import { optionalBool, optionalString, requiredString } from "../schema/read-values.js";
import type { DataSourceDefinition } from "../schema/resource.js";
import { DiagnosticError, DiagnosticsError } from "../schema/types.js";

export const policyBundle: DataSourceDefinition = {
  typeName: "hoopgate_policy_bundle",
  schema: {
    description: "Compiles the .hoop files below `path` into a policy bundle at plan time.",
    attributes: {
      path: { type: "string", required: true, description: "directory (or file) of .hoop sources, relative to the working directory" },
      run_tests: { type: "bool", optional: true, description: "run the policies' `test` blocks; a failing test fails the plan" },
      signing_key_pem: { type: "string", optional: true, sensitive: true, description: "PKCS#8 PEM private key (Ed25519 keeps plans stable; ES256 signatures differ on every plan)" },
      signing_kid: { type: "string", optional: true, description: "key id the gateway trusts the signing key under; required with signing_key_pem" },
      sha256: { type: "string", computed: true, description: "the bundle's own digest" },
      bundle: { type: "string", computed: true, description: "the bundle document: canonical JSON, or a compact JWS when signed" },
      policies: { type: "number", computed: true, description: "number of policies in the bundle" },
    },
  },
  async read(config) {
    const path = requiredString(config, "path");
    const key = optionalString(config, "signing_key_pem");
    const kid = optionalString(config, "signing_kid");
    if (key !== undefined && kid === undefined) throw new DiagnosticError("signing_kid is required with signing_key_pem", "the gateway picks the verification key by kid", ["signing_kid"]);
    // The compiler loads the SQL and shell parsers: only processes that read this data source pay for it.
    const { compilePaths, signBundle } = await import("../../compiler/index.js");
    const { runProgramTests } = await import("../../compiler/test-runner.js");
    const result = compilePaths([path]);
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    if (!result.bundle || !result.program || errors.length > 0) {
      throw new DiagnosticsError(errors.map((d) =>
        new DiagnosticError(`policy error: ${d.span.file}:${d.span.start.line}:${d.span.start.column}: ${d.message}`, renderDiagnostic(d, { color: false, sources: result.sources }), ["path"]),
      ));
    }
    if (optionalBool(config, "run_tests") === true) {
      const report = await runProgramTests(result.program, result.bundle);
      const failed = report.cases.filter((c) => !c.passed);
      if (failed.length > 0) {
        throw new DiagnosticsError(failed.map((c) =>
          new DiagnosticError(`policy test failed: ${c.file}:${c.line}:${c.column}: test \`${c.test}\`: expect ${c.title}`, `expected ${c.expected}, got ${c.actual}${c.reason ? ` (${c.reason})` : ""}`, ["run_tests"]),
        ));
      }
    }
    let document: string;
    try {
      document = key === undefined ? canonicalJson(result.bundle) : signBundle(result.bundle, key, kid!);
    } catch (error) {
      throw new DiagnosticError("cannot sign the bundle", (error as Error).message, ["signing_key_pem"]);
    }
    return { ...config, sha256: result.bundle.sha256, bundle: document, policies: result.bundle.policies.length };
  },
};

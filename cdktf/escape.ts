// Terraform reads every string in its JSON syntax as a template: `${…}` interpolates and
// `%{…}` is a directive. Text we embed (policy documents, the gateway config, the bundle)
// must reach AWS byte for byte, so its literal parts are escaped; cdktf tokens (references to
// other resources, which synthesize as `${…}`) are left alone so they still resolve.

import { Token } from "cdktf";

/** `${` → `$${` and `%{` → `%%{`, which Terraform turns back into the literal text. */
export function escapeTerraformTemplate(text: string): string {
  return text.replace(/([$%])\{/g, "$1$1{");
}

/**
 * JSON text for a Terraform string argument: object keys and string values are escaped,
 * except values that are cdktf tokens (e.g. a bucket's `arn`), which must stay references.
 * A string mixing literal text and tokens is taken as a token and not escaped; pass such
 * values as separate fields.
 */
export function terraformJson(value: unknown): string {
  return JSON.stringify(escapeLiterals(value));
}

/** `value` with its literal strings escaped, for building JSON that embeds pre-escaped parts. */
export function escapeLiterals(value: unknown): unknown {
  if (typeof value === "string") return Token.isUnresolved(value) ? value : escapeTerraformTemplate(value);
  if (Array.isArray(value)) return value.map(escapeLiterals);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [escapeTerraformTemplate(k), escapeLiterals(v)]),
    );
  }
  return value;
}

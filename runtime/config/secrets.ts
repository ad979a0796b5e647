// Secret references in the config: `env:NAME`, `file:PATH` (relative to the config file's
// directory) and AWS Secrets Manager ARNs are read at start; anything else is taken
// literally. Messages name where the secret was looked for, never its value.

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";

export type SecretResult = { ok: true; value: string } | { ok: false; message: string };

export interface SecretContext {
  /** `file:` paths are relative to it */
  baseDir: string;
  env: NodeJS.ProcessEnv;
  /** the config key's own name (`password`, `private_key`, …): the field read from a JSON secret */
  field: string;
}

export async function resolveSecret(reference: string, context: SecretContext): Promise<SecretResult> {
  if (reference.startsWith("env:")) {
    const name = reference.slice(4);
    const value = context.env[name];
    if (value === undefined) return { ok: false, message: `environment variable ${name} is not set` };
    if (value === "") return { ok: false, message: `environment variable ${name} is empty` };
    return { ok: true, value };
  }
  if (reference.startsWith("file:")) {
    const path = resolve(context.baseDir, reference.slice(5));
    try {
      const value = (await readFile(path, "utf8")).replace(/\r?\n$/, "");
      if (value === "") return { ok: false, message: `secret file ${path} is empty` };
      return { ok: true, value };
    } catch (error) {
      return { ok: false, message: `cannot read secret file ${path} (${errorCode(error)})` };
    }
  }
  if (reference.startsWith("arn:")) {
    // loaded only here, so configs without ARNs (and `hoopgate check`/`test`) never load the AWS SDK
    const { readSecretsManagerSecret } = await import("./secrets-manager.js");
    return readSecretsManagerSecret(reference, context.field);
  }
  return { ok: true, value: reference };
}

export function errorCode(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error) return String(error.code);
  return error instanceof Error ? error.message : String(error);
}

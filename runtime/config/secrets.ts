// Secret references in the config: `env:NAME` and `file:PATH` (relative to the config file's
// directory) are read at start; anything else is taken literally. Messages name where the
// secret was looked for, never its value.

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";

export type SecretResult = { ok: true; value: string } | { ok: false; message: string };

const UNSUPPORTED = /^arn:aws:secretsmanager:/;

export async function resolveSecret(
  reference: string,
  baseDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SecretResult> {
  if (reference.startsWith("env:")) {
    const name = reference.slice(4);
    const value = env[name];
    if (value === undefined) return { ok: false, message: `environment variable ${name} is not set` };
    if (value === "") return { ok: false, message: `environment variable ${name} is empty` };
    return { ok: true, value };
  }
  if (reference.startsWith("file:")) {
    const path = resolve(baseDir, reference.slice(5));
    try {
      const value = (await readFile(path, "utf8")).replace(/\r?\n$/, "");
      if (value === "") return { ok: false, message: `secret file ${path} is empty` };
      return { ok: true, value };
    } catch (error) {
      return { ok: false, message: `cannot read secret file ${path} (${errorCode(error)})` };
    }
  }
  if (UNSUPPORTED.test(reference)) {
    return { ok: false, message: "AWS Secrets Manager references are not supported yet (use env: or file:)" };
  }
  return { ok: true, value: reference };
}

export function errorCode(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error) return String(error.code);
  return error instanceof Error ? error.message : String(error);
}

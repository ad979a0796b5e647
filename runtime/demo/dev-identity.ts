// The dev issuer the demo runs, remembered in the state directory so `hoopgate token issue`
// signs tokens the running gateway accepts: the persisted key (runtime/identity/dev-key.ts) and
// the `iss`/`aud` it signs for.

import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const DEV_ISSUER_FILE = "dev-issuer.json";

export interface DevIssuerIdentity {
  issuer: string;
  audience: string;
}

export async function saveDevIssuerIdentity(dir: string, identity: DevIssuerIdentity): Promise<void> {
  await writeFile(join(dir, DEV_ISSUER_FILE), `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o600 });
}

/** undefined when no demo has run with this directory */
export async function loadDevIssuerIdentity(dir: string): Promise<DevIssuerIdentity | undefined> {
  const file = join(dir, DEV_ISSUER_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<DevIssuerIdentity>;
  if (typeof parsed.issuer !== "string" || typeof parsed.audience !== "string") {
    throw new Error(`${file} must hold {"issuer": "...", "audience": "..."}`);
  }
  return { issuer: parsed.issuer, audience: parsed.audience };
}

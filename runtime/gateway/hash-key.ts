// The HMAC key behind the `hash` mask strategy. It is persisted in the gateway's state
// directory so a hashed value stays the same across restarts (joins on hashed columns keep
// working), and is readable by the owner only.

import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const HASH_KEY_FILE = "mask-hash.key";
const KEY_BYTES = 32;

export async function loadOrCreateHashKey(stateDir: string): Promise<Uint8Array> {
  const file = join(stateDir, HASH_KEY_FILE);
  try {
    const key = Buffer.from((await readFile(file, "utf8")).trim(), "base64");
    if (key.length < KEY_BYTES) throw new Error(`masking hash key ${file} is shorter than ${KEY_BYTES} bytes`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  // `wx`: two gateways starting at once never overwrite each other's key
  try {
    await writeFile(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return loadOrCreateHashKey(stateDir);
    throw error;
  }
  return key;
}

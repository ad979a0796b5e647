// The development issuer's signing key: an ES256 private JWK, persisted so that
// `hoopgate token issue` signs with the same key the running gateway's dev issuer publishes.

import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";

export const DEV_KEY_FILE = "dev-issuer-key.json";

export interface DevKey {
  kid: string;
  /** private: keep it out of logs and responses */
  privateJwk: JWK;
  publicJwk: JWK;
}

export async function generateDevKey(): Promise<DevKey> {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  return fromPrivateJwk(await exportJWK(privateKey));
}

/** Writes `dir/dev-issuer-key.json` readable by the owner only; returns its path. */
export async function saveDevKey(dir: string, key: DevKey): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, DEV_KEY_FILE);
  await writeFile(file, `${JSON.stringify(key.privateJwk, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600); // writeFile's mode applies only when it creates the file
  return file;
}

export async function loadDevKey(dir: string): Promise<DevKey> {
  const file = join(dir, DEV_KEY_FILE);
  let jwk: JWK;
  try {
    jwk = JSON.parse(await readFile(file, "utf8")) as JWK;
  } catch (error) {
    const reason = error instanceof SyntaxError ? "not valid JSON" : "cannot be read";
    throw new Error(`dev issuer key ${file} ${reason}: start the gateway (hoopgate demo) to create it`);
  }
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || typeof jwk.d !== "string") {
    throw new Error(`dev issuer key ${file} is not an ES256 private key`);
  }
  return fromPrivateJwk(jwk);
}

async function fromPrivateJwk(jwk: JWK): Promise<DevKey> {
  await importJWK(jwk, "ES256");
  const { kty, crv, x, y } = jwk;
  const thumbprint = await calculateJwkThumbprint({ kty, crv, x, y });
  const kid = jwk.kid ?? thumbprint;
  return {
    kid,
    privateJwk: { ...jwk, kid, alg: "ES256" },
    publicJwk: { kty, crv, x, y, kid, alg: "ES256", use: "sig" },
  };
}

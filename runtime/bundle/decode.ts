// Bundle text → engine, under the trust rules: a compact JWS must verify against a trusted
// key; a plain JSON bundle is taken only in development (no keys configured and
// allow_unsigned set).

import type { BundleConfig } from "../config/types.js";
import { loadEngine, type Engine } from "../engine/index.js";
import { verifySignedBundle } from "./jws.js";

export interface DecodedBundle {
  engine: Engine;
  /** a JWS verified against a trusted key, not a development JSON bundle */
  signed: boolean;
  /** the JWS's signed `iat`, when it has one */
  issuedAt?: number;
}

export async function decodeBundle(text: string, config: Pick<BundleConfig, "keys" | "allowUnsigned">): Promise<Engine> {
  return (await decodeBundleDocument(text, config)).engine;
}

export async function decodeBundleDocument(text: string, config: Pick<BundleConfig, "keys" | "allowUnsigned">): Promise<DecodedBundle> {
  const document = text.trim();
  if (!document.startsWith("{")) {
    const { bundle, issuedAt } = await verifySignedBundle(document, config.keys);
    return { engine: await loadEngine(bundle), signed: true, ...(issuedAt !== undefined && { issuedAt }) };
  }
  if (config.keys.length > 0 || !config.allowUnsigned) {
    throw new Error("bundle is not signed: only bundles signed by a trusted key are loaded (hoopgate compile --sign)");
  }
  let json: unknown;
  try {
    json = JSON.parse(document);
  } catch (error) {
    throw new Error(`bundle is not valid JSON: ${(error as Error).message}`);
  }
  return { engine: await loadEngine(json), signed: false };
}

// Bundle text → engine, under the trust rules: a compact JWS must verify against a trusted
// key; a plain JSON bundle is taken only in development (no keys configured and
// allow_unsigned set).

import type { BundleConfig } from "../config/types.js";
import { loadEngine, type Engine } from "../engine/index.js";
import { verifyBundleJws } from "./jws.js";

export async function decodeBundle(text: string, config: Pick<BundleConfig, "keys" | "allowUnsigned">): Promise<Engine> {
  const document = text.trim();
  if (!document.startsWith("{")) return loadEngine(await verifyBundleJws(document, config.keys));
  if (config.keys.length > 0 || !config.allowUnsigned) {
    throw new Error("bundle is not signed: only bundles signed by a trusted key are loaded (hoopgate compile --sign)");
  }
  let json: unknown;
  try {
    json = JSON.parse(document);
  } catch (error) {
    throw new Error(`bundle is not valid JSON: ${(error as Error).message}`);
  }
  return loadEngine(json);
}

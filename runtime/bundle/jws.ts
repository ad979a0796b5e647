// Verification of signed bundles (DESIGN.md §3): a JWS in compact form whose payload is the
// bundle's canonical JSON, signed with EdDSA or ES256 by one of the gateway's trusted keys,
// chosen by the header's `kid` so keys can rotate. Anything else is refused with the reason.

import { compactVerify, type CryptoKey, type JWK, type KeyObject } from "jose";
import type { Bundle } from "./format.js";
import { validateBundle } from "./validate.js";

/** The protected header's `typ`: a bundle JWS is not mistaken for any other signed object. */
export const BUNDLE_JWS_TYP = "hoopgate-bundle+jws";
export const BUNDLE_JWS_ALGORITHMS = ["EdDSA", "ES256"] as const;

export interface TrustedBundleKey {
  kid: string;
  /** a public key; symmetric secrets are not accepted */
  key: JWK | CryptoKey | KeyObject;
}

export async function verifyBundleJws(jws: string, keys: readonly TrustedBundleKey[]): Promise<Bundle> {
  if (keys.length === 0) throw new Error("bundle signature: no trusted bundle keys configured");
  let verified;
  try {
    verified = await compactVerify(
      jws,
      (header) => {
        if (header.kid === undefined) throw new Error("the JWS header has no kid");
        const trusted = keys.find((k) => k.kid === header.kid);
        if (trusted === undefined) throw new Error(`unknown key id "${header.kid}"`);
        return trusted.key;
      },
      { algorithms: [...BUNDLE_JWS_ALGORITHMS] },
    );
  } catch (e) {
    throw new Error(`bundle signature: ${(e as Error).message}`);
  }
  if (verified.protectedHeader.typ !== BUNDLE_JWS_TYP) {
    throw new Error(`bundle signature: header typ is ${JSON.stringify(verified.protectedHeader.typ)}, expected "${BUNDLE_JWS_TYP}"`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(verified.payload));
  } catch (e) {
    throw new Error(`bundle signature: the signed payload is not JSON: ${(e as Error).message}`);
  }
  return validateBundle(json);
}

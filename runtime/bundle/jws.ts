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

/** How far ahead of this machine's clock a bundle's `iat` may lie (clock skew between signer and gateway). */
export const MAX_ISSUED_AT_AHEAD_SECONDS = 300;

export interface VerifiedBundle {
  bundle: Bundle;
  /** the protected header's `iat` (seconds since the epoch), when the signer set one */
  issuedAt?: number;
}

export async function verifyBundleJws(jws: string, keys: readonly TrustedBundleKey[]): Promise<Bundle> {
  return (await verifySignedBundle(jws, keys)).bundle;
}

/**
 * The bundle and its signed issue time. An `iat` that is not whole seconds, or lies more than
 * MAX_ISSUED_AT_AHEAD_SECONDS ahead, is refused: a bundle dated in the future would make every
 * bundle signed until then look older than it.
 */
export async function verifySignedBundle(jws: string, keys: readonly TrustedBundleKey[], now: () => number = Date.now): Promise<VerifiedBundle> {
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
  const iat: unknown = verified.protectedHeader.iat;
  if (iat !== undefined) {
    if (typeof iat !== "number" || !Number.isSafeInteger(iat) || iat < 0) throw new Error("bundle signature: header iat must be whole seconds since the epoch");
    if (iat > now() / 1000 + MAX_ISSUED_AT_AHEAD_SECONDS) {
      throw new Error(`bundle signature: issued at ${new Date(iat * 1000).toISOString()}, in the future (the signer's clock is wrong)`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(verified.payload));
  } catch (e) {
    throw new Error(`bundle signature: the signed payload is not JSON: ${(e as Error).message}`);
  }
  return { bundle: validateBundle(json), ...(iat !== undefined && { issuedAt: iat as number }) };
}

// Signs a compiled bundle as a compact JWS over its canonical JSON. Synchronous on purpose:
// cdktf constructs sign inside their constructors. node:crypto does the signing; jose (in
// runtime/bundle/jws.ts) verifies it.
//
// `issuedAt` (seconds since the epoch) goes into the protected header as `iat`: a gateway that
// loaded a bundle issued at T refuses one issued before T (runtime/bundle/source.ts). Without
// it the JWS depends only on the bundle and the key (EdDSA is deterministic), which is what
// the cdktf construct and the Terraform data source rely on for stable plans.

import { createPrivateKey, sign, type KeyObject } from "node:crypto";
import { canonicalJson } from "../runtime/bundle/canonical.js";
import type { Bundle } from "../runtime/bundle/format.js";
import { BUNDLE_JWS_TYP } from "../runtime/bundle/jws.js";
import { validateBundle } from "../runtime/bundle/validate.js";

export interface SignOptions {
  /** `iat` in the protected header, whole seconds since the epoch */
  issuedAt?: number;
}

export function signBundle(bundle: Bundle, privateKeyPem: string, kid: string, options: SignOptions = {}): string {
  if (kid === "") throw new Error("signBundle: empty key id");
  const { issuedAt } = options;
  if (issuedAt !== undefined && !(Number.isSafeInteger(issuedAt) && issuedAt >= 0)) throw new Error(`signBundle: issuedAt must be whole seconds since the epoch, got ${issuedAt}`);
  validateBundle(bundle); // never sign what the gateway would refuse to load
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (e) {
    throw new Error(`signBundle: not a PEM private key: ${(e as Error).message}`);
  }
  const alg = algorithmOf(key);
  const header = base64url(JSON.stringify({ alg, kid, typ: BUNDLE_JWS_TYP, ...(issuedAt !== undefined && { iat: issuedAt }) }));
  const payload = base64url(canonicalJson(bundle));
  const input = Buffer.from(`${header}.${payload}`, "ascii");
  const signature =
    alg === "EdDSA"
      ? sign(null, input, key)
      : sign("sha256", input, { key, dsaEncoding: "ieee-p1363" });
  return `${header}.${payload}.${signature.toString("base64url")}`;
}

function algorithmOf(key: KeyObject): "EdDSA" | "ES256" {
  if (key.asymmetricKeyType === "ed25519") return "EdDSA";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  const curve = key.asymmetricKeyDetails?.namedCurve;
  throw new Error(
    `signBundle: unsupported key type ${key.asymmetricKeyType}${curve ? ` (${curve})` : ""}; use Ed25519 or EC P-256`,
  );
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

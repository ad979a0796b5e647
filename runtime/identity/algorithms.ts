// Token signature algorithms the gateway accepts. Only asymmetric ones: an issuer's JWKS is
// public, so an HMAC key derived from it (or `none`) would let anyone mint tokens.

export const SUPPORTED_ALGORITHMS = [
  "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519",
] as const;
export type TokenAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

export const DEFAULT_ALGORITHMS: readonly TokenAlgorithm[] = ["RS256", "ES256", "EdDSA"];

export function isSupportedAlgorithm(alg: string): alg is TokenAlgorithm {
  return (SUPPORTED_ALGORITHMS as readonly string[]).includes(alg);
}

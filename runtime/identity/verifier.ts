// Token verification (DESIGN.md §5 "Identity"): the issuer is chosen by the token's unverified
// `iss`, then jose checks the signature against that issuer's keys and the claims. Everything
// not explicitly accepted is refused with a TokenError.

import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import type { Identity } from "../facts/types.js";
import type { IssuerConfig } from "../config/types.js";
import { DEFAULT_ALGORITHMS, isSupportedAlgorithm } from "./algorithms.js";
import { quoteUntrusted, TokenError } from "./token-error.js";

export interface TokenVerifier {
  verify(token: string): Promise<Identity>;
  /**
   * Why a token verified earlier (by this verifier or one it replaced) would no longer be
   * accepted by these issuers, as far as can be told without the token itself; undefined when
   * it would. The token is not kept, so its signature cannot be checked again: it stays trusted
   * only while its issuer is still configured with the same key source (JWKS URL or inline
   * keys) and the same algorithms, clock skew and lifetime cap it was verified with, and still
   * accepts one of its audiences. Anything else — the issuer removed, its keys or settings
   * changed, its audience narrowed past the token's, or no record of how it was verified —
   * withdraws the trust.
   */
  distrust(identity: Identity): string | undefined;
}

export interface VerifierOptions {
  /** after a key-set fetch, how long an unknown `kid` waits before another fetch; default 30 s */
  jwksCooldownMs?: number;
  /** how long fetched keys are trusted before a refetch; default 10 min */
  jwksMaxAgeMs?: number;
  /** default 5 s */
  jwksTimeoutMs?: number;
}

const DEFAULT_CLOCK_SKEW_SECONDS = 30;
/** A token valid for longer than this is an issuer's mistake (or a forged `exp`): refused unless the issuer allows more. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;
/** Far above any real OIDC token; stops absurd inputs before any parsing. */
const MAX_TOKEN_LENGTH = 16 * 1024;

interface TrustedIssuer {
  config: IssuerConfig;
  algorithms: string[];
  keys: JWTVerifyGetKey;
  /** what a token verified under this issuer is stamped with (Identity.verifiedUnder) */
  fingerprint: string;
}

/** The issuer's key source and every setting the verification used, but its audience (checked by itself). */
function trustFingerprint(config: IssuerConfig, algorithms: readonly string[]): string {
  return JSON.stringify([
    config.issuer,
    "url" in config.jwks ? { url: config.jwks.url } : { keys: config.jwks.keys },
    [...algorithms].sort(),
    config.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
    config.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  ]);
}

export function createTokenVerifier(issuers: IssuerConfig[], options: VerifierOptions = {}): TokenVerifier {
  const trusted = new Map<string, TrustedIssuer>();
  for (const config of issuers) {
    if (trusted.has(config.issuer)) throw new Error(`issuer ${config.issuer} is configured twice`);
    const algorithms = [...(config.algorithms ?? DEFAULT_ALGORITHMS)];
    const refused = algorithms.filter((alg) => !isSupportedAlgorithm(alg));
    if (refused.length > 0) throw new Error(`issuer ${config.issuer}: algorithms ${refused.join(", ")} are never accepted`);
    if (config.audience.length === 0) throw new Error(`issuer ${config.issuer}: no audience configured`);
    trusted.set(config.issuer, { config, algorithms, keys: keySet(config, options), fingerprint: trustFingerprint(config, algorithms) });
  }
  return { verify: (token) => verifyToken(trusted, token), distrust: (identity) => distrust(trusted, identity) };
}

function distrust(trusted: Map<string, TrustedIssuer>, identity: Identity): string | undefined {
  const issuer = trusted.get(identity.issuer);
  if (issuer === undefined) return `issuer ${identity.issuer} is no longer trusted`;
  if (identity.verifiedUnder === undefined) return "the token was not verified by this gateway";
  if (identity.verifiedUnder !== issuer.fingerprint) return `the keys or verification settings of issuer ${identity.issuer} changed`;
  const aud = identity.claims.aud;
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.some((a) => typeof a === "string" && issuer.config.audience.includes(a))) {
    return `issuer ${identity.issuer} no longer accepts the token's audience`;
  }
  return undefined;
}

function keySet(config: IssuerConfig, options: VerifierOptions): JWTVerifyGetKey {
  if ("keys" in config.jwks) return createLocalJWKSet({ keys: config.jwks.keys });
  return createRemoteJWKSet(new URL(config.jwks.url), {
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
    cacheMaxAge: options.jwksMaxAgeMs ?? 600_000,
    timeoutDuration: options.jwksTimeoutMs ?? 5_000,
  });
}

async function verifyToken(trusted: Map<string, TrustedIssuer>, token: string): Promise<Identity> {
  const { alg, iss } = peek(token);
  const issuer = typeof iss === "string" ? trusted.get(iss) : undefined;
  if (issuer === undefined) {
    throw new TokenError("unknown_issuer", `token issuer ${quoteUntrusted(iss ?? "(none)")} is not trusted`);
  }
  if (!issuer.algorithms.includes(alg)) {
    throw new TokenError(
      "algorithm_not_allowed",
      `token algorithm ${quoteUntrusted(alg)} is not allowed (allowed: ${issuer.algorithms.join(", ")})`,
    );
  }
  const { config } = issuer;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, issuer.keys, {
      issuer: config.issuer,
      audience: config.audience,
      algorithms: issuer.algorithms,
      clockTolerance: config.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
      requiredClaims: ["exp", "sub"],
    }));
  } catch (error) {
    throw explain(error, config);
  }
  if (typeof payload.sub !== "string" || payload.sub === "") {
    throw new TokenError("invalid_claims", "token subject (sub) must be a non-empty string");
  }
  const skew = config.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  // jose checked that exp is a number and not in the past (beyond the skew); it may still lie absurdly far ahead
  const maxLifetime = config.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  if ((payload.exp as number) > Date.now() / 1000 + maxLifetime + skew) {
    throw new TokenError("lifetime_too_long", `token expires more than ${lifetimeText(maxLifetime)} from now, longer than issuer ${config.issuer} may grant (max_token_lifetime)`);
  }
  const expiresAt = new Date(((payload.exp as number) + skew) * 1000);
  return {
    issuer: config.issuer, subject: payload.sub, claims: { ...payload },
    ...(!Number.isNaN(expiresAt.getTime()) && { expiresAt }),
    verifiedUnder: issuer.fingerprint,
  };
}

/** The unverified header algorithm and issuer, or a `malformed` error. */
function peek(token: string): { alg: string; iss: unknown } {
  if (typeof token !== "string" || token.length === 0) throw new TokenError("malformed", "no token was presented");
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenError("malformed", "token is too long");
  try {
    const header = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    if (typeof header.alg !== "string") throw new TokenError("malformed", "token header has no algorithm");
    return { alg: header.alg, iss: claims.iss };
  } catch (error) {
    if (error instanceof TokenError) throw error;
    throw new TokenError("malformed", "token is not a well-formed signed JWT");
  }
}

function explain(error: unknown, config: IssuerConfig): TokenError {
  if (error instanceof errors.JWTExpired) {
    const exp = typeof error.payload.exp === "number" ? ` at ${new Date(error.payload.exp * 1000).toISOString()}` : "";
    return new TokenError("expired", `token expired${exp}`);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "nbf":
      case "iat":
        return new TokenError("not_yet_valid", `token is not valid yet (${error.claim} is in the future)`);
      case "aud":
        return new TokenError("wrong_audience", `token audience is not ${config.audience.map((a) => `"${a}"`).join(" or ")}`);
      default:
        return new TokenError("invalid_claims", `token claim ${error.claim} is ${error.reason === "missing" ? "missing" : "invalid"}`);
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenError("bad_signature", "token signature does not verify");
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new TokenError("unknown_key", `token is signed with a key issuer ${config.issuer} does not publish`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new TokenError("algorithm_not_allowed", "token algorithm is not allowed");
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) {
    return new TokenError("malformed", "token is not a well-formed signed JWT");
  }
  // fetch failures, timeouts, an issuer serving a broken key set: nobody is let in meanwhile
  return new TokenError("keys_unavailable", `cannot get the signing keys of issuer ${config.issuer}; try again later`, error);
}

/** `24h`, `90m`, `45s`: the largest unit that divides the duration */
function lifetimeText(seconds: number): string {
  if (seconds % 86_400 === 0 && seconds >= 2 * 86_400) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

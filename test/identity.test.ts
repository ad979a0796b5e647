import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHmac, createPublicKey, type JsonWebKey } from "node:crypto";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTokenVerifier,
  generateDevKey,
  loadDevKey,
  saveDevKey,
  signDevToken,
  startDevIssuer,
  TokenError,
  type TokenErrorCode,
} from "../runtime/identity/index.js";

const ISSUER = "https://issuer.test";
const AUDIENCE = "hoopgate";

interface SigningKey {
  kid: string;
  alg: "RS256" | "ES256";
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string, alg: "RS256" | "ES256"): Promise<SigningKey> {
  const pair = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg, use: "sig" } };
}

/** A real JWKS endpoint whose key list the tests change, counting fetches. */
class JwksServer {
  keys: JWK[] = [];
  fetches = 0;
  url = "";
  private server: Server = createServer((_req, res) => {
    this.fetches++;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: this.keys }));
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/jwks`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const now = () => Math.floor(Date.now() / 1000);

function sign(key: SigningKey, claims: JWTPayload = {}, kid = key.kid): Promise<string> {
  return new SignJWT({ sub: "repo:acme/api:ref:refs/heads/main", repository: "acme/api", ...claims })
    .setProtectedHeader({ alg: key.alg, kid })
    .setIssuer(typeof claims.iss === "string" ? claims.iss : ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(typeof claims.exp === "number" ? claims.exp : now() + 300)
    .sign(key.privateKey);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

async function refusal(promise: Promise<unknown>, token: string): Promise<{ code: TokenErrorCode; message: string }> {
  const error = await promise.then(
    () => { throw new Error("expected the token to be refused"); },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenError);
  const { code, message } = error as TokenError;
  if (token.length > 10) for (const part of token.split(".")) if (part.length > 10) expect(message).not.toContain(part);
  return { code, message };
}

let jwks: JwksServer;
let rsa: SigningKey;
let ec: SigningKey;

beforeAll(async () => {
  jwks = new JwksServer();
  await jwks.start();
  rsa = await signingKey("r1", "RS256");
  ec = await signingKey("e1", "ES256");
  jwks.keys = [rsa.jwk, ec.jwk];
});

afterAll(async () => {
  await jwks.close();
});

function verifier(cooldownMs = 0) {
  return createTokenVerifier(
    [{ issuer: ISSUER, audience: [AUDIENCE, "other"], jwks: { url: jwks.url } }],
    { jwksCooldownMs: cooldownMs },
  );
}

describe("createTokenVerifier", () => {
  it("accepts a valid token and returns the identity with every claim", async () => {
    const v = verifier();
    for (const key of [rsa, ec]) {
      const identity = await v.verify(await sign(key));
      expect(identity.issuer).toBe(ISSUER);
      expect(identity.subject).toBe("repo:acme/api:ref:refs/heads/main");
      expect(identity.claims).toMatchObject({ iss: ISSUER, aud: AUDIENCE, repository: "acme/api" });
    }
  });

  it("refuses a forged signature", async () => {
    const forger = await signingKey("r1", "RS256");
    const token = await sign(forger);
    expect(await refusal(verifier().verify(token), token)).toEqual({ code: "bad_signature", message: "token signature does not verify" });
  });

  it("refuses an expired token beyond the clock skew, accepts one within it", async () => {
    const v = verifier();
    const old = await sign(ec, { exp: now() - 120 });
    const { code, message } = await refusal(v.verify(old), old);
    expect(code).toBe("expired");
    expect(message).toMatch(/^token expired at \d{4}-\d\d-\d\dT/);
    await expect(v.verify(await sign(ec, { exp: now() - 5 }))).resolves.toBeDefined();
  });

  it("refuses a token whose exp lies further ahead than the issuer's max_token_lifetime (default 24h)", async () => {
    const v = verifier();
    for (const exp of [1e300, now() + 25 * 3600]) {
      const token = await sign(ec, { exp });
      expect(await refusal(v.verify(token), token)).toEqual({
        code: "lifetime_too_long",
        message: `token expires more than 24h from now, longer than issuer ${ISSUER} may grant (max_token_lifetime)`,
      });
    }
    const exp = now() + 23 * 3600;
    const identity = await v.verify(await sign(ec, { exp }));
    // the instant a new login with it would be refused: exp plus the clock skew
    expect(identity.expiresAt?.getTime()).toBe((exp + 30) * 1000);
    const lenient = createTokenVerifier([{ issuer: ISSUER, audience: [AUDIENCE], jwks: { url: jwks.url }, maxTokenLifetimeSeconds: 7 * 86_400 }]);
    await expect(lenient.verify(await sign(ec, { exp: now() + 6 * 86_400 }))).resolves.toBeDefined();
    const week = await sign(ec, { exp: now() + 8 * 86_400 });
    expect((await refusal(lenient.verify(week), week)).message).toContain("more than 7d from now");
  });

  it("refuses a token that is not valid yet", async () => {
    const token = await sign(ec, { nbf: now() + 600 });
    expect(await refusal(verifier().verify(token), token)).toEqual({
      code: "not_yet_valid",
      message: "token is not valid yet (nbf is in the future)",
    });
  });

  it("refuses the wrong audience", async () => {
    const token = await sign(ec, { aud: "someone-else" });
    expect(await refusal(verifier().verify(token), token)).toEqual({
      code: "wrong_audience",
      message: 'token audience is not "hoopgate" or "other"',
    });
  });

  it("refuses an issuer it does not trust, and tokens without exp or sub", async () => {
    const token = await sign(ec, { iss: "https://evil.test" });
    expect(await refusal(verifier().verify(token), token)).toEqual({
      code: "unknown_issuer",
      message: 'token issuer "https://evil.test" is not trusted',
    });
    const noExp = await new SignJWT({ sub: "x" }).setProtectedHeader({ alg: "ES256", kid: "e1" })
      .setIssuer(ISSUER).setAudience(AUDIENCE).sign(ec.privateKey);
    expect(await refusal(verifier().verify(noExp), noExp)).toEqual({ code: "invalid_claims", message: "token claim exp is missing" });
    const noSub = await new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: "e1" })
      .setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime("5m").sign(ec.privateKey);
    expect(await refusal(verifier().verify(noSub), noSub)).toEqual({ code: "invalid_claims", message: "token claim sub is missing" });
  });

  it("refuses alg none", async () => {
    const token = `${b64({ alg: "none", typ: "JWT" })}.${b64({ iss: ISSUER, sub: "x", aud: AUDIENCE, exp: now() + 60 })}.`;
    expect(await refusal(verifier().verify(token), token)).toEqual({
      code: "algorithm_not_allowed",
      message: 'token algorithm "none" is not allowed (allowed: RS256, ES256, EdDSA)',
    });
  });

  it("refuses HS256 signed with the RSA public key's bytes, and never lets an issuer allow HMAC", async () => {
    const pem = createPublicKey({ key: rsa.jwk as JsonWebKey, format: "jwk" }).export({ type: "spki", format: "pem" });
    const input = `${b64({ alg: "HS256", kid: "r1" })}.${b64({ iss: ISSUER, sub: "x", aud: AUDIENCE, exp: now() + 60 })}`;
    const token = `${input}.${createHmac("sha256", pem).update(input).digest("base64url")}`;
    expect((await refusal(verifier().verify(token), token)).code).toBe("algorithm_not_allowed");
    expect(() => createTokenVerifier([
      { issuer: ISSUER, audience: [AUDIENCE], jwks: { url: jwks.url }, algorithms: ["HS256" as "RS256"] },
    ])).toThrow("algorithms HS256 are never accepted");
  });

  it("refetches the key set on an unknown kid, then refuses", async () => {
    const v = verifier();
    await v.verify(await sign(ec));
    const before = jwks.fetches;
    const stranger = await signingKey("unknown-kid", "ES256");
    const token = await sign(stranger);
    expect(await refusal(v.verify(token), token)).toEqual({
      code: "unknown_key",
      message: `token is signed with a key issuer ${ISSUER} does not publish`,
    });
    expect(jwks.fetches).toBeGreaterThan(before);
  });

  it("does not refetch for unknown kids during the cooldown", async () => {
    const v = verifier(60_000);
    await v.verify(await sign(ec));
    const before = jwks.fetches;
    const stranger = await signingKey("another-kid", "ES256");
    for (let i = 0; i < 5; i++) expect((await refusal(v.verify(await sign(stranger)), "")).code).toBe("unknown_key");
    expect(jwks.fetches).toBe(before);
  });

  it("accepts a rotated-in key after refetching", async () => {
    const v = verifier();
    await v.verify(await sign(rsa));
    const rotated = await signingKey("r2", "RS256");
    jwks.keys = [...jwks.keys, rotated.jwk];
    const before = jwks.fetches;
    const identity = await v.verify(await sign(rotated));
    expect(identity.subject).toBe("repo:acme/api:ref:refs/heads/main");
    expect(jwks.fetches).toBe(before + 1);
  });

  it("refuses malformed token strings", async () => {
    const v = verifier();
    const header = b64({ alg: "ES256", kid: "e1" });
    const cases = ["", "abc", "a.b.c", "....", `${header}.not-json.sig`, `${header}.${b64("str")}.sig`,
      `${b64({ alg: "RSA-OAEP", enc: "A256GCM" })}.a.b.c.d`, "x".repeat(20_000), "Bearer abc.def.ghi"];
    for (const token of cases) {
      const { code, message } = await refusal(v.verify(token), token);
      expect(code, token.slice(0, 40)).toBe("malformed");
      expect(message).toMatch(/^(no token was presented|token is too long|token is not a well-formed signed JWT)$/);
    }
  });

  it("fails closed when the issuer's keys cannot be fetched", async () => {
    const down = createTokenVerifier([{ issuer: ISSUER, audience: [AUDIENCE], jwks: { url: "http://127.0.0.1:1/jwks" } }]);
    const token = await sign(ec);
    const { code, message } = await refusal(down.verify(token), token);
    expect(code).toBe("keys_unavailable");
    expect(message).toBe(`cannot get the signing keys of issuer ${ISSUER}; try again later`);
  });

  it("verifies against inline keys", async () => {
    const v = createTokenVerifier([{ issuer: ISSUER, audience: [AUDIENCE], jwks: { keys: [ec.jwk] }, algorithms: ["ES256"] }]);
    expect((await v.verify(await sign(ec))).issuer).toBe(ISSUER);
    const token = await sign(rsa);
    expect((await refusal(v.verify(token), token)).code).toBe("algorithm_not_allowed");
  });
});

describe("TokenVerifier.distrust: is a token verified earlier still accepted by the issuers in force", () => {
  const base = () => ({ issuer: ISSUER, audience: [AUDIENCE, "other"], jwks: { url: jwks.url } });

  it("keeps the trust while the issuer is configured as it was, or only its audience changed to still take the token's", async () => {
    const identity = await verifier().verify(await sign(rsa));
    expect(verifier().distrust(identity)).toBeUndefined();
    expect(createTokenVerifier([{ ...base(), audience: [AUDIENCE] }, { issuer: "https://another.test", audience: ["x"], jwks: { url: jwks.url } }]).distrust(identity)).toBeUndefined();
    const multi = await verifier().verify(await sign(rsa, { aud: ["nobody", "other"] }));
    expect(createTokenVerifier([{ ...base(), audience: ["other"] }]).distrust(multi)).toBeUndefined();
  });

  it("withdraws it when the issuer is removed, its keys or settings change, or it no longer takes the token's audience", async () => {
    const identity = await verifier().verify(await sign(rsa));
    expect(createTokenVerifier([]).distrust(identity)).toBe(`issuer ${ISSUER} is no longer trusted`);
    const changed = `the keys or verification settings of issuer ${ISSUER} changed`;
    expect(createTokenVerifier([{ ...base(), jwks: { url: `${jwks.url}?v=2` } }]).distrust(identity)).toBe(changed);
    expect(createTokenVerifier([{ ...base(), jwks: { keys: [rsa.jwk] } }]).distrust(identity)).toBe(changed);
    expect(createTokenVerifier([{ ...base(), algorithms: ["RS256"] }]).distrust(identity)).toBe(changed);
    expect(createTokenVerifier([{ ...base(), clockSkewSeconds: 5 }]).distrust(identity)).toBe(changed);
    expect(createTokenVerifier([{ ...base(), maxTokenLifetimeSeconds: 3600 }]).distrust(identity)).toBe(changed);
    expect(createTokenVerifier([{ ...base(), audience: ["other"] }]).distrust(identity)).toBe(`issuer ${ISSUER} no longer accepts the token's audience`);
  });

  it("withdraws it from an identity it has no record of verifying", () => {
    expect(verifier().distrust({ issuer: ISSUER, subject: "s", claims: { aud: AUDIENCE } })).toBe("the token was not verified by this gateway");
  });
});

describe("dev issuer", () => {
  it("serves discovery and JWKS, and its tokens verify", async () => {
    const dev = await startDevIssuer();
    try {
      const discovery = (await (await fetch(`${dev.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(discovery).toMatchObject({ issuer: dev.issuer, jwks_uri: dev.jwksUrl });
      const keys = (await (await fetch(dev.jwksUrl)).json()) as { keys: JWK[] };
      expect(keys.keys).toEqual([dev.key.publicJwk]);
      expect(keys.keys[0]).not.toHaveProperty("d");
      expect((await fetch(`${dev.issuer}/other`)).status).toBe(404);

      const v = createTokenVerifier([{ issuer: dev.issuer, audience: [dev.audience], jwks: { url: dev.jwksUrl } }]);
      const identity = await v.verify(await dev.issue({ sub: "bot-1", claims: { groups: ["dba"], iss: "spoofed" }, ttl: 60 }));
      expect(identity).toMatchObject({ issuer: dev.issuer, subject: "bot-1", claims: { groups: ["dba"] } });
      const expired = await dev.issue({ sub: "bot-1", ttl: -120 });
      expect((await refusal(v.verify(expired), expired)).code).toBe("expired");
    } finally {
      await dev.close();
    }
  });

  it("persists its key with mode 0600 so a later process signs for the same issuer", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "hoopgate-devkey-")), "state");
    const file = await saveDevKey(dir, await generateDevKey());
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const dev = await startDevIssuer({ key: await loadDevKey(dir), audience: "aud-x" });
    try {
      const key = await loadDevKey(dir);
      expect(key.kid).toBe(dev.key.kid);
      const token = await signDevToken(key, { issuer: dev.issuer, audience: "aud-x", sub: "ci", ttl: "15m" });
      const v = createTokenVerifier([{ issuer: dev.issuer, audience: ["aud-x"], jwks: { url: dev.jwksUrl }, algorithms: ["ES256"] }]);
      expect((await v.verify(token)).subject).toBe("ci");
    } finally {
      await dev.close();
    }
    await expect(loadDevKey(join(dir, "missing"))).rejects.toThrow(/dev-issuer-key\.json cannot be read: start the gateway/);
  });
});

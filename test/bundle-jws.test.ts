// Signed bundles: signBundle (node:crypto, synchronous) produces a JWS that jose verifies, and
// verifyBundleJws refuses tampering, `alg: none`, HS256 keyed with the public key, unknown
// key ids, foreign token types and signed-but-broken bundles.

import { createHmac, createPrivateKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CompactSign, compactVerify, exportJWK, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import { signBundle } from "../compiler/sign.js";
import { bundleDigest, canonicalJson } from "../runtime/bundle/canonical.js";
import type { Bundle } from "../runtime/bundle/format.js";
import { BUNDLE_JWS_TYP, verifyBundleJws, verifySignedBundle } from "../runtime/bundle/jws.js";
import { cli } from "./support/cli.js";

function makeBundle(issuer = "https://login.acme.dev"): Bundle {
  const body = {
    format: "hoopgate.bundle/v1" as const,
    sources: [{ path: "main.hoop", sha256: "a".repeat(64) }],
    connections: { db: { kind: "postgres" as const, tags: ["prod"] } },
    groups: { dba: { issuer, when: { op: "contains" as const, attr: "claims.groups", value: "dba" } } },
    policies: [
      {
        name: "dba-on-db",
        subjects: ["dba"],
        connections: ["db"],
        rules: [{ id: "dba-on-db/allow#1", policy: "dba-on-db", effect: "allow" as const, cond: { op: "true" as const }, source: "main.hoop:3:3" }],
        index: { postgres: { attr: "sql.command", byValue: {}, any: [0] } },
        masks: [],
        limits: [],
        source: "main.hoop:1:1",
      },
    ],
    byConnection: { db: [0] },
  };
  return { ...body, sha256: bundleDigest(body) };
}

interface TestKey {
  privatePem: string;
  publicKey: KeyObject;
  jwk: JWK;
}

async function keyPair(type: "ed25519" | "p256"): Promise<TestKey> {
  const { privateKey, publicKey } =
    type === "ed25519" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), publicKey, jwk: await exportJWK(publicKey) };
}

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64url");
const header = (jws: string) => JSON.parse(Buffer.from(jws.split(".")[0]!, "base64url").toString("utf8")) as Record<string, unknown>;

describe("signBundle and verifyBundleJws", () => {
  it("signs with Ed25519 (EdDSA); jose verifies the canonical JSON; the gateway loads it", async () => {
    const key = await keyPair("ed25519");
    const bundle = makeBundle();
    const jws = signBundle(bundle, key.privatePem, "k1");
    expect(header(jws)).toEqual({ alg: "EdDSA", kid: "k1", typ: BUNDLE_JWS_TYP });
    const { payload } = await compactVerify(jws, key.publicKey, { algorithms: ["EdDSA"] });
    expect(new TextDecoder().decode(payload)).toBe(canonicalJson(bundle));
    expect(await verifyBundleJws(jws, [{ kid: "k1", key: key.jwk }])).toEqual(bundle);
  });

  it("signs with P-256 (ES256, IEEE P1363 signatures)", async () => {
    const key = await keyPair("p256");
    const jws = signBundle(makeBundle(), key.privatePem, "ec-1");
    expect(header(jws).alg).toBe("ES256");
    expect(Buffer.from(jws.split(".")[2]!, "base64url")).toHaveLength(64);
    await expect(verifyBundleJws(jws, [{ kid: "ec-1", key: key.publicKey }])).resolves.toEqual(makeBundle());
  });

  it("picks the key by kid among several (rotation)", async () => {
    const [old, current] = [await keyPair("ed25519"), await keyPair("p256")];
    const keys = [{ kid: "old", key: old.jwk }, { kid: "new", key: current.jwk }];
    await expect(verifyBundleJws(signBundle(makeBundle(), old.privatePem, "old"), keys)).resolves.toBeDefined();
    await expect(verifyBundleJws(signBundle(makeBundle(), current.privatePem, "new"), keys)).resolves.toBeDefined();
    // signed by the new key but labelled with the old kid
    await expect(verifyBundleJws(signBundle(makeBundle(), current.privatePem, "old"), keys)).rejects.toThrow(/bundle signature/);
  });

  it("refuses a tampered payload", async () => {
    const key = await keyPair("ed25519");
    const [h, , s] = signBundle(makeBundle(), key.privatePem, "k1").split(".");
    const forged = `${h}.${b64(canonicalJson(makeBundle("https://evil.example")))}.${s}`;
    await expect(verifyBundleJws(forged, [{ kid: "k1", key: key.jwk }])).rejects.toThrow("bundle signature: signature verification failed");
  });

  it("refuses alg none", async () => {
    const key = await keyPair("ed25519");
    const unsigned = `${b64(JSON.stringify({ alg: "none", kid: "k1", typ: BUNDLE_JWS_TYP }))}.${b64(canonicalJson(makeBundle()))}.`;
    await expect(verifyBundleJws(unsigned, [{ kid: "k1", key: key.jwk }])).rejects.toThrow(/bundle signature: .*"alg"/);
  });

  it("refuses HS256 keyed with the public key (algorithm confusion)", async () => {
    const key = await keyPair("ed25519");
    const input = `${b64(JSON.stringify({ alg: "HS256", kid: "k1", typ: BUNDLE_JWS_TYP }))}.${b64(canonicalJson(makeBundle()))}`;
    const publicPem = key.publicKey.export({ type: "spki", format: "pem" });
    for (const secret of [publicPem, JSON.stringify(key.jwk), Buffer.from(key.jwk.x!, "base64url")]) {
      const forged = `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
      await expect(verifyBundleJws(forged, [{ kid: "k1", key: key.jwk }])).rejects.toThrow(/bundle signature: .*"alg" \(Algorithm\) Header Parameter value not allowed/);
    }
  });

  it("refuses an unknown kid, a missing kid and an empty key list", async () => {
    const key = await keyPair("ed25519");
    const jws = signBundle(makeBundle(), key.privatePem, "k9");
    await expect(verifyBundleJws(jws, [{ kid: "k1", key: key.jwk }])).rejects.toThrow('bundle signature: unknown key id "k9"');
    const noKid = await new CompactSign(new TextEncoder().encode(canonicalJson(makeBundle())))
      .setProtectedHeader({ alg: "EdDSA", typ: BUNDLE_JWS_TYP })
      .sign(createPrivateKey(key.privatePem));
    await expect(verifyBundleJws(noKid, [{ kid: "k1", key: key.jwk }])).rejects.toThrow("bundle signature: the JWS header has no kid");
    await expect(verifyBundleJws(jws, [])).rejects.toThrow("no trusted bundle keys");
  });

  it("refuses another kind of signed object (typ) and a signed bundle that does not validate", async () => {
    const key = await keyPair("ed25519");
    const privateKey = createPrivateKey(key.privatePem);
    const sign = (payload: string, typ: string) =>
      new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: "EdDSA", kid: "k1", typ }).sign(privateKey);
    const trusted = [{ kid: "k1", key: key.jwk }];
    await expect(verifyBundleJws(await sign(canonicalJson(makeBundle()), "JWT"), trusted)).rejects.toThrow(`header typ is "JWT", expected "${BUNDLE_JWS_TYP}"`);
    const stale = { ...makeBundle(), sha256: "0".repeat(64) };
    await expect(verifyBundleJws(await sign(canonicalJson(stale), BUNDLE_JWS_TYP), trusted)).rejects.toThrow(/^sha256: does not match/);
    await expect(verifyBundleJws(await sign("not json", BUNDLE_JWS_TYP), trusted)).rejects.toThrow("the signed payload is not JSON");
  });

  it("signBundle refuses unsupported keys and bundles the gateway would not load", async () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(() => signBundle(makeBundle(), rsa, "k1")).toThrow("unsupported key type rsa");
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(() => signBundle(makeBundle(), p384, "k1")).toThrow("unsupported key type ec (secp384r1)");
    const key = await keyPair("ed25519");
    expect(() => signBundle({ ...makeBundle(), sha256: "0".repeat(64) }, key.privatePem, "k1")).toThrow(/^sha256: does not match/);
    expect(() => signBundle(makeBundle(), "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----", "k1")).toThrow("signBundle: not a PEM private key");
  });

  it("canonical JSON sorts keys, drops undefined fields and refuses what JSON cannot hold", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "x"], c: { z: undefined, y: 2 } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"y":2}}');
    expect(() => canonicalJson({ a: Number.NaN })).toThrow("$.a: NaN has no JSON form");
    expect(() => canonicalJson({ a: new Date(0) })).toThrow("only plain objects");
    expect(bundleDigest({ ...makeBundle(), sha256: "ignored" })).toBe(makeBundle().sha256);
  });

  it("dates a bundle with a signed iat when asked; the verifier returns it and refuses one in the future or not whole seconds", async () => {
    const key = await keyPair("ed25519");
    const trusted = [{ kid: "k1", key: key.jwk }];
    const undated = signBundle(makeBundle(), key.privatePem, "k1");
    expect(signBundle(makeBundle(), key.privatePem, "k1")).toBe(undated); // EdDSA: stable without a date
    expect(await verifySignedBundle(undated, trusted)).toEqual({ bundle: makeBundle() });
    const dated = signBundle(makeBundle(), key.privatePem, "k1", { issuedAt: 1_800_000_000 });
    expect(header(dated)).toEqual({ alg: "EdDSA", kid: "k1", typ: BUNDLE_JWS_TYP, iat: 1_800_000_000 });
    expect(await verifySignedBundle(dated, trusted, () => 1_800_000_000_000)).toEqual({ bundle: makeBundle(), issuedAt: 1_800_000_000 });
    await expect(verifySignedBundle(dated, trusted, () => 1_799_999_000_000)).rejects.toThrow("bundle signature: issued at 2027-01-15T08:00:00.000Z, in the future (the signer's clock is wrong)");
    expect(await verifySignedBundle(dated, trusted, () => 1_799_999_800_000)).toMatchObject({ issuedAt: 1_800_000_000 }); // within 5 min of skew
    const privateKey = createPrivateKey(key.privatePem);
    const odd = await new CompactSign(new TextEncoder().encode(canonicalJson(makeBundle()))).setProtectedHeader({ alg: "EdDSA", kid: "k1", typ: BUNDLE_JWS_TYP, iat: "yesterday" }).sign(privateKey);
    await expect(verifySignedBundle(odd, trusted)).rejects.toThrow("bundle signature: header iat must be whole seconds since the epoch");
    expect(() => signBundle(makeBundle(), key.privatePem, "k1", { issuedAt: 1.5 })).toThrow("issuedAt must be whole seconds");
  });

  it("hoopgate compile --sign dates the bundle: now, SOURCE_DATE_EPOCH, --issued-at SECONDS, or none", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hoopgate-sign-"));
    const key = await keyPair("ed25519");
    writeFileSync(join(dir, "key.pem"), key.privatePem);
    writeFileSync(join(dir, "p.hoop"), "connection db { kind = postgres }\n");
    const compile = async (...extra: string[]) => {
      const out = join(dir, "b.jws");
      const result = await cli("compile", join(dir, "p.hoop"), "-o", out, "--sign", join(dir, "key.pem"), "--kid", "k1", ...extra);
      expect(result.code, result.err).toBe(0);
      return header(readFileSync(out, "utf8").trim());
    };
    const before = Math.floor(Date.now() / 1000);
    const now = (await compile()).iat as number;
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect((await compile("--issued-at", "1700000000")).iat).toBe(1_700_000_000);
    expect(await compile("--issued-at", "none")).not.toHaveProperty("iat");
    process.env.SOURCE_DATE_EPOCH = "1600000000";
    try {
      expect((await compile()).iat).toBe(1_600_000_000);
    } finally {
      delete process.env.SOURCE_DATE_EPOCH;
    }
    expect((await cli("compile", join(dir, "p.hoop"), "--sign", join(dir, "key.pem"), "--kid", "k1", "--issued-at", "soon")).code).toBe(2);
    expect((await cli("compile", join(dir, "p.hoop"), "--issued-at", "1700000000")).code).toBe(2);
  });
});

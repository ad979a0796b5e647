// A minimal valid bundle and an Ed25519 signing key, for tests of bundle sources.

import { generateKeyPairSync } from "node:crypto";
import type { JWK } from "jose";
import { bundleDigest } from "../../runtime/bundle/canonical.js";
import type { Bundle } from "../../runtime/bundle/format.js";

/** One postgres connection and one policy allowing everything on it to group `bots`. */
export function makeBundle(connection: string): Bundle {
  const body = {
    format: "hoopgate.bundle/v1" as const,
    sources: [{ path: "main.hoop", sha256: "b".repeat(64) }],
    connections: { [connection]: { kind: "postgres" as const, tags: [] } },
    groups: { bots: { issuer: "https://issuer.test", when: { op: "true" as const } } },
    policies: [{
      name: "bots",
      subjects: ["bots"],
      connections: [connection],
      rules: [{ id: "bots/allow#1", policy: "bots", effect: "allow" as const, cond: { op: "true" as const }, source: "main.hoop:2:3" }],
      index: { postgres: { attr: "sql.command", byValue: {}, any: [0] } },
      masks: [],
      limits: [],
      source: "main.hoop:1:1",
    }],
    byConnection: { [connection]: [0] },
  };
  return { ...body, sha256: bundleDigest(body) };
}

export function signingKey(kid: string) {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" }) as JWK;
  return { kid, pem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), jwk, trusted: { kid, key: jwk } };
}

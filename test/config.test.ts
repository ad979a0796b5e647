import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../runtime/config/index.js";

let dir: string;
let publicJwk: Record<string, unknown>;
let privateJwk: Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hoopgate-config-"));
  const pair = await generateKeyPair("EdDSA", { extractable: true });
  publicJwk = { ...(await exportJWK(pair.publicKey)) };
  privateJwk = { ...(await exportJWK(pair.privateKey)) };
  await writeFile(join(dir, "bundle-pub.jwk"), JSON.stringify(publicJwk));
  await mkdir(join(dir, "secrets"));
  await writeFile(join(dir, "secrets", "bastion_key"), "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n");
});

const DESIGN_EXAMPLE = `
listen:   { postgres: 127.0.0.1:15432, ssh: 127.0.0.1:12222, api: 127.0.0.1:18080 }
bundle:   { path: ./bundle.json, keys: [ { kid: k1, jwk_file: ./bundle-pub.jwk } ] }
issuers:
  - { issuer: https://token.actions.githubusercontent.com, audience: hoopgate,
      jwks_url: https://token.actions.githubusercontent.com/.well-known/jwks }
connections:
  orders-db: { target: postgres://app@db.internal:5432/orders, password: env:ORDERS_DB_PASSWORD }
  bastion:   { target: ssh://deploy@10.0.0.7:22, private_key: file:./secrets/bastion_key }
store: postgres://hoopgate@store.internal/hoopgate     # omitted: embedded PGlite in ./.hoopgate
`;

let counter = 0;
async function write(text: string, ext = "yaml"): Promise<string> {
  const file = join(dir, `gateway-${counter++}.${ext}`);
  await writeFile(file, text);
  return file;
}

const ENV = { ORDERS_DB_PASSWORD: "s3cret-orders" };

/** The issues' text, one `path: message` per line; fails the test if the config loads. */
async function problems(text: string, env: NodeJS.ProcessEnv = ENV, ext = "yaml"): Promise<string[]> {
  const file = await write(text, ext);
  const error = await loadConfig(file, env).then(
    () => { throw new Error("expected the config to be refused"); },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  const configError = error as ConfigError;
  expect(configError.message).toContain(file);
  return configError.issues.map((i) => `${i.path}: ${i.message}`);
}

describe("loadConfig", () => {
  it("loads DESIGN.md's example with secrets resolved and paths made absolute", async () => {
    const file = await write(DESIGN_EXAMPLE);
    const config = await loadConfig(file, ENV);
    expect(config.file).toBe(file);
    expect(config.listen).toEqual({
      postgres: { host: "127.0.0.1", port: 15432 },
      ssh: { host: "127.0.0.1", port: 12222 },
      api: { host: "127.0.0.1", port: 18080 },
    });
    expect(config.bundle).toEqual({
      location: { kind: "file", path: join(dir, "bundle.json") },
      keys: [{ kid: "k1", key: { ...publicJwk, kid: "k1" } }],
      reloadIntervalMs: 30_000,
      allowUnsigned: false,
    });
    expect(config.issuers).toEqual([{
      issuer: "https://token.actions.githubusercontent.com",
      audience: ["hoopgate"],
      jwks: { url: "https://token.actions.githubusercontent.com/.well-known/jwks" },
    }]);
    expect(config.connections["orders-db"]).toEqual({
      name: "orders-db",
      target: { kind: "postgres", host: "db.internal", port: 5432, user: "app", database: "orders" },
      password: "s3cret-orders",
    });
    expect(config.connections.bastion).toEqual({
      name: "bastion",
      target: { kind: "ssh", host: "10.0.0.7", port: 22, user: "deploy" },
      privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----",
    });
    expect(config.store).toEqual({ kind: "postgres", url: "postgres://hoopgate@store.internal/hoopgate" });
    expect(config.auth).toEqual({ allowCleartextOnLoopback: false });
    expect(config.tls).toBeUndefined();
    expect(config.limits).toEqual({ maxStatementBytes: 1024 * 1024, startupTimeoutMs: 15_000, maxConnections: 1000 });
  });

  it("loads JSON, inline keys, durations, TLS, audit and defaults", async () => {
    await writeFile(join(dir, "tls.crt"), "CERT");
    await writeFile(join(dir, "tls.key"), "KEY");
    const file = await write(JSON.stringify({
      listen: { postgres: "[::1]:0" },
      bundle: { url: "https://bundles.example/b.json", keys: [{ kid: "k2", jwk: publicJwk }], reload_interval: "2m" },
      issuers: [{
        issuer: "http://127.0.0.1:9999", audience: ["a", "b"], algorithms: ["ES256"], clock_skew: 10, max_token_lifetime: "2h",
        jwks: { keys: [{ ...publicJwk, kid: "x" }] },
      }],
      connections: { db: { target: "postgresql://reader@localhost/test", password: "file:secrets/bastion_key" } },
      tls: { cert_file: "tls.crt", key_file: "./tls.key" },
      auth: { allow_cleartext_on_loopback: true },
      audit: { file: "audit/audit.jsonl" },
      log: { level: "debug" },
    }), "json");
    const config = await loadConfig(file, {});
    expect(config.listen.postgres).toEqual({ host: "::1", port: 0 });
    expect(config.bundle?.location).toEqual({ kind: "url", url: "https://bundles.example/b.json" });
    expect(config.bundle?.reloadIntervalMs).toBe(120_000);
    expect(config.issuers[0]).toEqual({
      issuer: "http://127.0.0.1:9999", audience: ["a", "b"], algorithms: ["ES256"], clockSkewSeconds: 10, maxTokenLifetimeSeconds: 7200,
      jwks: { keys: [{ ...publicJwk, kid: "x" }] },
    });
    expect(config.connections.db?.target).toEqual({ kind: "postgres", host: "localhost", port: 5432, user: "reader", database: "test" });
    expect(config.connections.db?.password).toContain("BEGIN OPENSSH");
    expect(config.tls).toEqual({ certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key"), cert: "CERT", key: "KEY" });
    expect(config.auth.allowCleartextOnLoopback).toBe(true);
    expect(config.audit).toEqual({ file: join(dir, "audit", "audit.jsonl") });
    expect(config.log).toEqual({ level: "debug" });
    expect(config.store).toEqual({ kind: "pglite", dir: join(dir, ".hoopgate") });
    expect(config.issuers).toHaveLength(1);
  });

  it("takes limits.max_statement_size in KiB, MiB or bytes, from 1KiB to 64MiB", async () => {
    for (const [size, bytes] of [["8MiB", 8 * 1024 * 1024], ["512KiB", 512 * 1024], [65536, 65536], ["64MiB", 64 * 1024 * 1024], ["1KiB", 1024]] as const) {
      const config = await loadConfig(await write(`listen: { postgres: 127.0.0.1:1 }\nlimits: { max_statement_size: ${size} }\n`), {});
      expect(config.limits?.maxStatementBytes).toBe(bytes);
    }
    const refused = async (size: string): Promise<string[]> => problems(`listen: { postgres: 127.0.0.1:1 }\nlimits: { max_statement_size: ${size} }\n`);
    expect(await refused("8MB")).toEqual(["limits.max_statement_size: must be a size such as 512KiB, 8MiB or a number of bytes"]);
    expect(await refused("1.5")).toEqual(["limits.max_statement_size: must be a string or a whole number"]);
    expect(await refused("1023")).toEqual(["limits.max_statement_size: must be at least 1KiB"]);
    expect(await refused("65MiB")).toEqual(["limits.max_statement_size: must be at most 64MiB (the largest message a client may send)"]);
    expect(await problems(`listen: { postgres: 127.0.0.1:1 }\nlimits: { max_statement: 1MiB }\n`))
      .toEqual(["limits.max_statement: unknown key (expected one of: max_statement_size, startup_timeout, max_connections)"]);
  });

  it("takes limits.startup_timeout (1s to 10m, default 15s) and limits.max_connections (at least 1, default 1000)", async () => {
    const limits = async (text: string) => (await loadConfig(await write(`listen: { postgres: 127.0.0.1:1 }\nlimits: ${text}\n`), {})).limits;
    expect(await limits("{ startup_timeout: 30s, max_connections: 50 }")).toEqual({ maxStatementBytes: 1024 * 1024, startupTimeoutMs: 30_000, maxConnections: 50 });
    expect((await limits("{ startup_timeout: 1s }"))?.startupTimeoutMs).toBe(1000);
    expect((await limits("{ startup_timeout: 600 }"))?.startupTimeoutMs).toBe(600_000);
    const refused = async (text: string): Promise<string[]> => problems(`listen: { postgres: 127.0.0.1:1 }\nlimits: ${text}\n`);
    expect(await refused("{ startup_timeout: 500ms }")).toEqual(["limits.startup_timeout: must be at least 1s"]);
    expect(await refused("{ startup_timeout: 11m }")).toEqual(["limits.startup_timeout: must be at most 10m"]);
    expect(await refused("{ startup_timeout: soon }")).toEqual(["limits.startup_timeout: must be a duration such as 500ms, 30s, 15m, 2h or a number of seconds"]);
    expect(await refused("{ max_connections: 0 }")).toEqual(["limits.max_connections: must be at least 1"]);
    expect(await refused("{ max_connections: many }")).toEqual(["limits.max_connections: must be a whole number"]);
  });

  it("names the key of a bad connection target", async () => {
    expect(await problems(`listen: { api: 127.0.0.1:1 }\nconnections:\n  orders-db: { target: mysql://a@b/c }\n`))
      .toEqual(["connections.orders-db.target: must be a postgres:// or ssh:// URL"]);
  });

  it("refuses unknown keys with a did-you-mean", async () => {
    expect(await problems(`listen: { postgress: 127.0.0.1:1 }\nisuers: []\n`)).toEqual([
      'isuers: unknown key (did you mean "issuers"?)',
      'listen.postgress: unknown key (did you mean "postgres"?)',
    ]);
    expect(await problems(`listen: { api: 127.0.0.1:1 }\nbundle: { path: b.json, allow_unsigned: true, zzzzzz: 1 }\n`))
      .toEqual(["bundle.zzzzzz: unknown key (expected one of: path, url, keys, reload_interval, allow_unsigned)"]);
  });

  it("reports missing keys, wrong types and bad values with their paths", async () => {
    const issues = await problems(`
listen: { api: 18080, ssh: "localhost:70000" }
issuers:
  - { issuer: https://i.example, jwks_url: https://i.example/jwks, algorithms: [HS256] }
  - { issuer: https://j.example, audience: x, jwks_url: "http://j.example/jwks" }
  - { issuer: https://k.example, audience: x }
connections:
  "bad name": { target: ssh://u@h }
  db: { target: "postgres://app:pw@h/db", private_key: env:K }
log: { level: loud }
`, { K: "k" });
    expect(issues).toEqual(expect.arrayContaining([
      "listen.api: must be a string",
      "issuers[0].audience: is required",
      "issuers[0].algorithms[0]: must be one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519",
      "connections.bad name: is not a valid connection name (letters, digits, _ and -, not starting with a digit or -)",
      "log.level: must be one of fatal, error, warn, info, debug, trace, silent",
    ]));
    // the schema passes these shapes; the resolver then checks their meaning
    expect(await problems(`
listen: { ssh: "localhost:70000" }
issuers:
  - { issuer: https://j.example, audience: x, jwks_url: "http://j.example/jwks" }
  - { issuer: https://k.example, audience: x }
  - { issuer: https://j.example, audience: x, jwks_url: "https://j.example/jwks" }
connections:
  db: { target: "postgres://app:pw@h/db", private_key: env:K }
  pg: { target: "postgres://app@h/db", private_key: env:K }
`, { K: "k" })).toEqual([
      "listen.ssh: port must be at most 65535",
      "issuers[0].jwks_url: must be an https:// URL (http:// only on loopback)",
      "issuers[1]: set exactly one of jwks_url or jwks",
      'issuers[2].issuer: duplicate issuer "https://j.example"',
      "connections.db.target: must not contain a password: use the password key (env: or file:)",
      "connections.pg.private_key: only ssh connections take a private_key",
    ]);
    expect(await problems(`listen: { api: 127.0.0.1:1 }\nissuers: [ { issuer: https://i.example, audience: x, jwks_url: https://i.example/jwks, max_token_lifetime: 10s } ]\n`))
      .toEqual(["issuers[0].max_token_lifetime: must be at least 1m"]);
  });

  it("takes a postgres connection's require_auth, and names what is wrong with it", async () => {
    const file = await write(`listen: { api: 127.0.0.1:1 }\nconnections:\n  db: { target: "postgres://u@127.0.0.1/d", password: p, tls: { mode: disable }, require_auth: [scram-sha-256, md5] }\n`);
    expect((await loadConfig(file, {})).connections.db?.requireAuth).toEqual(["scram-sha-256", "md5"]);
    expect(await problems(`
listen: { api: 127.0.0.1:1 }
connections:
  a: { target: "postgres://u@h/d", require_auth: [kerberos] }
  b: { target: "postgres://u@h/d", require_auth: [] }
`)).toEqual([
      "connections.a.require_auth[0]: must be one of scram-sha-256, md5, password, none",
      "connections.b.require_auth: must not be empty",
    ]);
    expect(await problems(`
listen: { api: 127.0.0.1:1 }
connections:
  c: { target: "postgres://u@h/d", require_auth: [md5, md5] }
  box: { target: "ssh://u@h", require_auth: [password] }
`)).toEqual([
      "connections.c.require_auth: lists md5 twice",
      "connections.box.require_auth: only postgres connections take require_auth",
    ]);
  });

  it("checks the bundle's trusted keys", async () => {
    await writeFile(join(dir, "private.jwk"), JSON.stringify(privateJwk));
    expect(await problems(`
listen: { api: 127.0.0.1:1 }
bundle:
  path: b.json
  keys: [ { kid: a, jwk_file: private.jwk }, { kid: b, jwk_file: missing.jwk }, { kid: a, jwk: { kty: oct, k: abc } } ]
`)).toEqual([
      "bundle.keys[0].jwk_file: is a private key: configure the public key only",
      `bundle.keys[1].jwk_file: cannot read ${join(dir, "missing.jwk")} (ENOENT)`,
      "bundle.keys[2].jwk: symmetric (oct) keys are not accepted",
      'bundle.keys[2].kid: duplicate kid "a"',
    ]);
    expect(await problems(`listen: { api: 127.0.0.1:1 }\nbundle: { path: b.json }\n`))
      .toEqual(["bundle.keys: at least one trusted key is required (allow_unsigned: true is for development only)"]);
    expect(await problems(`listen: { api: 127.0.0.1:1 }\nbundle: { path: b.json, url: "https://x/b", allow_unsigned: true, reload_interval: 10ms }\n`))
      .toEqual(["bundle.reload_interval: must be at least 1s", "bundle: set exactly one of path or url"]);
    expect(await problems(`listen: { api: 127.0.0.1:1 }\nbundle: { path: b.json, allow_unsigned: true, keys: [ { kid: k, jwk_file: bundle-pub.jwk } ] }\n`))
      .toEqual(["bundle.allow_unsigned: cannot be true when bundle.keys are configured (signed bundles only)"]);
  });

  it("takes bundle.url over https, or http on loopback only, and never with a user name or password", async () => {
    const url = (u: string) => `listen: { api: 127.0.0.1:1 }\nbundle: { url: "${u}", allow_unsigned: true }\n`;
    expect(await problems(url("http://bundles.example/b.jws"))).toEqual([
      "bundle.url: must be an https:// or s3:// URL (http:// only on loopback: over plain HTTP anyone on the way can serve an older signed bundle)",
    ]);
    expect(await problems(url("https://ci:secret@bundles.example/b.jws"))).toEqual([
      "bundle.url: must not carry a user name or password (user:password@): use a presigned URL, or s3:// with the gateway's AWS credentials",
    ]);
    expect(await problems(url("ftp://bundles.example/b.jws"))).toEqual(["bundle.url: must be an https:// or s3:// URL (http:// only on loopback)"]);
    for (const ok of ["http://127.0.0.1:8080/b.jws", "http://localhost/b.jws", "http://[::1]/b.jws", "https://bundles.example/b.jws?X-Amz-Signature=x"]) {
      expect((await loadConfig(await write(url(ok)), {})).bundle?.location).toEqual({ kind: "url", url: ok });
    }
  });

  it("names the key of a missing secret and never echoes secret values", async () => {
    const issues = await problems(DESIGN_EXAMPLE, {});
    expect(issues).toEqual(["connections.orders-db.password: environment variable ORDERS_DB_PASSWORD is not set"]);
    const fileIssues = await problems(
      `listen: { api: 127.0.0.1:1 }\nconnections:\n  box: { target: "ssh://u@h", private_key: "file:/nonexistent/key" }\n  db: { target: "postgres://u@h/d", password: "env:EMPTY" }\nstore: env:STORE\n`,
      { EMPTY: "", STORE: "mysql://root:hunter2@h/x" },
    );
    expect(fileIssues).toEqual([
      "connections.box.private_key: cannot read secret file /nonexistent/key (ENOENT)",
      "connections.db.password: environment variable EMPTY is empty",
      "store: must be a postgres:// URL (omit it for the embedded store)",
    ]);
    expect(fileIssues.join("\n")).not.toContain("hunter2");
  });

  it("reports YAML syntax errors and duplicate keys without quoting the file", async () => {
    expect(await problems(`listen: { api: 127.0.0.1:1 }\nstore: "postgres://u:hunter2@h/x\n`))
      .toEqual([expect.stringMatching(/^: not valid YAML: .*line 3, column 1$/)]);
    expect(await problems(`listen: { api: 127.0.0.1:1 }\nlisten: { ssh: 127.0.0.1:2 }\n`))
      .toEqual([": not valid YAML: Map keys must be unique at line 2, column 1"]);
    expect(await problems(`[1, 2]`)).toEqual([": must be a mapping"]);
    expect(await problems(`{"listen": {"api": hunter2`, {}, "json")).toEqual([expect.stringMatching(/^: not valid JSON: /)]);
  });

  it("says so when the file cannot be read", async () => {
    await expect(loadConfig(join(dir, "nope.yaml"))).rejects.toThrow(/nope\.yaml: invalid configuration\n {2}\(top level\): cannot read the file \(ENOENT\)/);
  });
});

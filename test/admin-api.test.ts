// The gateway's admin API on a real gateway (startGateway from a config file): who may call
// it, what it refuses, what it persists across a restart, and what it records in the audit.

import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compilePaths, compileSources, signBundle } from "../compiler/index.js";
import { canonicalJson } from "../runtime/bundle/canonical.js";
import { ConfigError, loadConfig } from "../runtime/config/index.js";
import { startGateway, type Gateway } from "../runtime/gateway/index.js";
import { startDevIssuer, type DevIssuer } from "../runtime/identity/index.js";

const ADMIN_TOKEN = "admin-api-test-bootstrap-token-42";
const POLICIES = join(import.meta.dirname, "..", "examples", "cdktf-live", "policies");

describe("admin API", () => {
  let dir: string;
  let issuer: DevIssuer;
  let gateway: Gateway;
  let signingKey: string;
  const base = (): string => `http://127.0.0.1:${gateway.ports.api}/api/admin`;
  const call = (method: string, path: string, options: { token?: string | null; body?: unknown } = {}) => {
    const token = options.token === undefined ? ADMIN_TOKEN : options.token;
    return fetch(`${base()}/${path}`, {
      method,
      headers: { ...(token !== null && { authorization: `Bearer ${token}` }), ...(options.body !== undefined && { "content-type": "application/json" }) },
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    });
  };
  const start = async () => (gateway = await startGateway(await loadConfig(join(dir, "gateway.yaml"))));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "hoopgate-admin-"));
    issuer = await startDevIssuer();
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    signingKey = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    writeFileSync(join(dir, "pub.jwk"), JSON.stringify(publicKey.export({ format: "jwk" })));
    writeFileSync(join(dir, "gateway.yaml"), [
      "listen: { api: 127.0.0.1:0 }",
      "bundle: { path: ./bundle.json, keys: [ { kid: k1, jwk_file: ./pub.jwk } ] }",
      `issuers: [ { issuer: "${issuer.issuer}", audience: hoopgate, jwks_url: "${issuer.jwksUrl}" } ]`,
      "connections: { from-config: { target: postgres://app@127.0.0.1:5432/app } }",
      `admin: { token: ${ADMIN_TOKEN}, issuer: "${issuer.issuer}", group: hoopgate-admins }`,
      "audit: { file: ./.hoopgate/audit.jsonl }",
      "log: { level: silent }",
    ].join("\n"));
    await start();
  });

  afterAll(async () => {
    await gateway?.close();
    await issuer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses requests without a valid admin credential", async () => {
    expect((await call("GET", "connections", { token: null })).status).toBe(401);
    expect((await call("GET", "connections", { token: "not-the-admin-token" })).status).toBe(401);
    const outsider = await issuer.issue({ sub: "bot", claims: { groups: ["developers"] } });
    const refused = await call("PUT", "connections/x", { token: outsider, body: { target: "postgres://a@127.0.0.1/b" } });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { message: string }).message).toContain('not in the admin group "hoopgate-admins"');
  });

  it("accepts a token from the trusted issuer in the admin group", async () => {
    const admin = await issuer.issue({ sub: "platform-admin", claims: { groups: ["hoopgate-admins"] } });
    const response = await call("PUT", "connections/by-group", { token: admin, body: { target: "postgres://app@127.0.0.1:5432/app" } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ name: "by-group", kind: "postgres", source: "admin", password_set: false });
  });

  it("validates bodies and refuses unknown fields, bad targets and config-owned objects", async () => {
    const extra = await call("PUT", "connections/c1", { body: { target: "postgres://a@127.0.0.1/b", oops: 1 } });
    expect(extra.status).toBe(400);
    expect(((await extra.json()) as { message: string }).message).toContain("oops");
    expect((await call("PUT", "connections/c1", { body: {} })).status).toBe(400);
    const withPassword = await call("PUT", "connections/c1", { body: { target: "postgres://a:secret@127.0.0.1/b" } });
    expect(withPassword.status).toBe(400);
    expect((await call("PUT", "connections/from-config", { body: { target: "postgres://a@127.0.0.1/b" } })).status).toBe(409);
    expect((await call("DELETE", "connections/from-config")).status).toBe(409);
    expect((await call("PUT", "issuers/https%3A%2F%2Fevil.example", { body: { audience: ["x"], jwks_url: "http://evil.example/jwks" } })).status).toBe(400);
    expect((await call("GET", "webhooks/nope")).status).toBe(404);
    expect((await call("PUT", "connections/c1", { body: { target: "postgres://a@127.0.0.1/b", require_auth: ["kerberos"] } })).status).toBe(400);
    expect((await call("PUT", "connections/c1", { body: { target: "ssh://a@127.0.0.1", require_auth: ["password"] } })).status).toBe(400);
  });

  it("keeps a connection's require_auth and shows it", async () => {
    const put = await call("PUT", "connections/scram-only", { body: { target: "postgres://app@127.0.0.1:5432/app", require_auth: ["scram-sha-256"] } });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ name: "scram-only", require_auth: ["scram-sha-256"] });
    expect(gateway.admin.live.target("scram-only")).toMatchObject({ requireAuth: ["scram-sha-256"] });
    expect((await call("DELETE", "connections/scram-only")).status).toBe(204);
  });

  it("deploys only bundles that verify against a trusted key", async () => {
    const compiled = compilePaths([POLICIES]);
    const unsigned = await call("PUT", "bundle", { body: { bundle: canonicalJson(compiled.bundle) } });
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as { message: string }).message).toContain("not signed");
    const stranger = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect((await call("PUT", "bundle", { body: { bundle: signBundle(compiled.bundle!, stranger, "k1") } })).status).toBe(400);
    expect(await (await call("GET", "bundle")).json()).toMatchObject({ sha256: null });
    const good = await call("PUT", "bundle", { body: { bundle: signBundle(compiled.bundle!, signingKey, "k1") } });
    expect(good.status).toBe(200);
    expect(await good.json()).toMatchObject({ sha256: compiled.bundle!.sha256 });
  });

  it("lets an admin deploy go back to a replaced or undated bundle (the source's rollback refusal is for its location)", async () => {
    const first = signBundle(compilePaths([POLICIES]).bundle!, signingKey, "k1");
    const other = compileSources([{ path: "o.hoop", text: "connection other { kind = postgres }\n" }]).bundle!;
    const newer = await call("PUT", "bundle", { body: { bundle: signBundle(other, signingKey, "k1", { issuedAt: Math.floor(Date.now() / 1000) }) } });
    expect(newer.status).toBe(200);
    expect(await newer.json()).toMatchObject({ sha256: other.sha256 });
    const back = await call("PUT", "bundle", { body: { bundle: first } });
    expect(back.status).toBe(200);
    expect(await back.json()).toMatchObject({ sha256: compilePaths([POLICIES]).bundle!.sha256, last_error: null });
  });

  it("persists changes across a restart and records them in the audit log", async () => {
    const hook = await call("POST", "webhooks", { body: { url: "https://hooks.example.com/a" } });
    expect(hook.status).toBe(201);
    const { id } = (await hook.json()) as { id: string };
    expect((await call("PUT", "connections/kept", { body: { target: "postgres://app@127.0.0.1:5432/app", password: "s3cret" } })).status).toBe(200);
    await gateway.close();
    await start();
    expect(await (await call("GET", "connections/kept")).json()).toMatchObject({ name: "kept", password_set: true });
    expect(await (await call("GET", `webhooks/${id}`)).json()).toEqual({ id, url: "https://hooks.example.com/a" });
    expect(gateway.bundle?.status().sha256).toBe(compilePaths([POLICIES]).bundle!.sha256);
    expect((await call("DELETE", `webhooks/${id}`)).status).toBe(204);

    const audit = readFileSync(join(dir, ".hoopgate", "audit.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    const admin = audit.filter((entry) => entry.connection === "hoopgate.admin");
    expect(admin).toContainEqual(expect.objectContaining({ text: "PUT /api/admin/connections/kept", decision: "allow", identity: { issuer: "hoopgate", subject: "bootstrap-admin-token" } }));
    expect(admin).toContainEqual(expect.objectContaining({ text: "PUT /api/admin/connections/by-group", decision: "allow", identity: { issuer: issuer.issuer, subject: "platform-admin" } }));
    expect(admin).toContainEqual(expect.objectContaining({ text: "PUT /api/admin/connections/from-config", decision: "deny" }));
    expect(admin).toContainEqual(expect.objectContaining({ text: "PUT /api/admin/connections/x", decision: "deny" }));
    expect(JSON.stringify(audit)).not.toContain("s3cret");
  });
});

describe("admin config", () => {
  const load = async (admin: string) => {
    const dir = mkdtempSync(join(tmpdir(), "hoopgate-admin-config-"));
    try {
      writeFileSync(join(dir, "gateway.yaml"), `listen: { api: 127.0.0.1:0 }\nissuers: [ { issuer: https://login.example, audience: x, jwks_url: https://login.example/jwks } ]\nadmin: ${admin}\n`);
      return await loadConfig(join(dir, "gateway.yaml"), { ADMIN: "from-the-environment-0123" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const problem = (admin: string) => load(admin).then(() => "", (error: unknown) => (error instanceof ConfigError ? error.message : String(error)));

  it("resolves the token secret and the admin group", async () => {
    expect((await load("{ token: env:ADMIN, issuer: https://login.example, group: ops }")).admin).toEqual({
      token: "from-the-environment-0123",
      group: { issuer: "https://login.example", name: "ops" },
    });
  });

  it("names what is wrong", async () => {
    expect(await problem("{ token: short }")).toContain("admin.token: must be at least 16 characters");
    expect(await problem("{ group: ops }")).toContain("admin: set issuer and group together");
    expect(await problem("{ issuer: https://other.example, group: ops }")).toContain('admin.issuer: "https://other.example" is not one of the configured issuers');
    expect(await problem("{ tokne: x }")).toContain("admin");
  });
});

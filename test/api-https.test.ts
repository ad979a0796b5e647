// The HTTP API carries bearer tokens (approvers', admins', the Terraform provider's): with `tls`
// configured it is served over HTTPS only, and a non-loopback API without TLS is a config error
// unless listen.api_plain_http says a TLS-terminating proxy fronts it. The clients (the
// approvals CLI, the provider's admin client) reach it through a private CA they are given.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileSources } from "../compiler/index.js";
import { apiRequest } from "../runtime/api/http-client.js";
import { canonicalJson } from "../runtime/bundle/canonical.js";
import { ConfigError, loadConfig } from "../runtime/config/index.js";
import { startGateway, type Gateway } from "../runtime/gateway/index.js";
import { startDevIssuer, type DevIssuer } from "../runtime/identity/index.js";
import { AdminClient } from "../terraform/client.js";
import { makeApiCertificates, type ApiCertificates } from "./support/api-tls.js";
import { cli } from "./support/cli.js";

const ADMIN_TOKEN = "api-https-test-admin-token-0123456";

const policy = (issuer: string): string => `
connection orders { kind = postgres }
group writers {
  issuer = "${issuer}"
  when   = claims.role == "writer"
}
group dba {
  issuer = "${issuer}"
  when   = claims.role == "dba"
}
policy work {
  subjects    = [group.writers]
  connections = [connection.orders]
  review when sql.command == delete { approvers = [group.dba] }
  allow  when sql.command == select
}
`;

let dir: string;
let certs: ApiCertificates;
let issuer: DevIssuer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "hoopgate-api-https-"));
  certs = await makeApiCertificates(dir);
  issuer = await startDevIssuer();
  const compiled = compileSources([{ path: "work.hoop", text: policy(issuer.issuer) }]);
  if (compiled.bundle === undefined) throw new Error(compiled.diagnostics.map((d) => d.message).join("; "));
  writeFileSync(join(dir, "bundle.json"), canonicalJson(compiled.bundle));
});

afterAll(async () => {
  await issuer?.close();
  rmSync(dir, { recursive: true, force: true });
});

let configs = 0;
function configFile(listen: string, extra: string[] = []): string {
  const file = join(dir, `gateway-${configs++}.yaml`);
  writeFileSync(file, [
    `listen: ${listen}`,
    "bundle: { path: ./bundle.json, allow_unsigned: true }",
    `issuers: [ { issuer: "${issuer.issuer}", audience: hoopgate, jwks_url: "${issuer.jwksUrl}" } ]`,
    "connections: { orders: { target: postgres://postgres@127.0.0.1:5432/postgres } }",
    `admin: { token: ${ADMIN_TOKEN} }`,
    "log: { level: silent }",
    ...extra,
  ].join("\n"));
  return file;
}
const TLS = "tls: { cert_file: ./api.crt, key_file: ./api.key }";

const problems = (file: string): Promise<string[]> =>
  loadConfig(file).then(() => [], (error: unknown) => (error instanceof ConfigError ? error.issues.map((i) => `${i.path}: ${i.message}`) : [String(error)]));

describe("config", () => {
  it("refuses a non-loopback API listener without TLS, naming the key and the way out", async () => {
    expect(await problems(configFile("{ api: 0.0.0.0:8080 }"))).toEqual([
      "listen.api: is not a loopback address and there is no tls: configure tls (cert_file, key_file) to serve the API over HTTPS, or set listen.api_plain_http: true if a TLS-terminating proxy fronts it",
    ]);
    expect(await problems(configFile("{ api: \"[::]:8080\" }"))).toHaveLength(1);
    expect(await problems(configFile("{ postgres: 127.0.0.1:0, api_plain_http: true }"))).toEqual(["listen.api_plain_http: has no effect without listen.api"]);
  });

  it("takes a loopback API without TLS, a non-loopback one with TLS, and the explicit plain-HTTP opt-out", async () => {
    expect((await loadConfig(configFile("{ api: 127.0.0.1:8080 }"))).listen).toEqual({ api: { host: "127.0.0.1", port: 8080 } });
    expect((await loadConfig(configFile("{ api: localhost:8080 }"))).listen.api).toEqual({ host: "localhost", port: 8080 });
    expect((await loadConfig(configFile("{ api: 0.0.0.0:8080 }", [TLS]))).listen).toEqual({ api: { host: "0.0.0.0", port: 8080 } });
    expect((await loadConfig(configFile("{ api: 0.0.0.0:8080, api_plain_http: true }"))).listen).toEqual({ api: { host: "0.0.0.0", port: 8080 }, apiPlainHttp: true });
  });
});

describe("with tls configured", () => {
  let gateway: Gateway;
  let base: string;

  beforeAll(async () => {
    gateway = await startGateway(await loadConfig(configFile("{ api: 127.0.0.1:0 }", [TLS])));
    base = `https://127.0.0.1:${gateway.ports.api}`;
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it("serves the API over HTTPS with the configured certificate, and nothing in plain HTTP", async () => {
    const health = await apiRequest(new URL(`${base}/healthz`), { method: "GET", ca: certs.ca });
    expect(health).toMatchObject({ status: 200, text: '{"status":"ok"}' });
    await expect(apiRequest(new URL(`http://127.0.0.1:${gateway.ports.api}/api/admin/connections`), {
      method: "GET", headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, timeoutMs: 5_000,
    })).rejects.toThrow();
  });

  it("is refused by a client that does not trust its CA", async () => {
    await expect(apiRequest(new URL(`${base}/healthz`), { method: "GET" })).rejects.toThrow(/give its CA/);
  });

  it("works with `hoopgate approvals --ca` (or HOOPGATE_CA_FILE)", async () => {
    const dba = await issuer.issue({ sub: "alice", claims: { role: "dba" } });
    expect(await cli("approvals", "list", "--api", base, "--ca", certs.caFile, "--token", dba)).toEqual({ code: 0, out: "", err: "" });
    const refused = await cli("approvals", "list", "--api", base, "--token", dba);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/^hoopgate approvals: cannot reach https:\/\/127\.0\.0\.1:\d+: .*give its CA/);
    process.env.HOOPGATE_CA_FILE = certs.caFile;
    try {
      expect(await cli("approvals", "list", "--api", base, "--token", dba, "--format", "json")).toMatchObject({ code: 0, out: expect.stringContaining('"approvals"') });
    } finally {
      delete process.env.HOOPGATE_CA_FILE;
    }
    expect(await cli("approvals", "list", "--api", `http://127.0.0.1:${gateway.ports.api}`, "--ca", certs.caFile, "--token", dba))
      .toMatchObject({ code: 2, err: expect.stringContaining("--ca (HOOPGATE_CA_FILE) is the CA of an https:// API") });
  });

  it("works with the Terraform provider's admin client given the CA", async () => {
    const client = new AdminClient(base, ADMIN_TOKEN, certs.ca);
    expect(await client.get("connections")).toEqual([expect.objectContaining({ name: "orders", source: "config" })]);
    await expect(new AdminClient(base, ADMIN_TOKEN).get("connections")).rejects.toThrow(/cannot reach the gateway at https:\/\/127\.0\.0\.1:\d+: .*give its CA/);
    expect(() => new AdminClient(`http://127.0.0.1:${gateway.ports.api}`, ADMIN_TOKEN, certs.ca)).toThrow(/ca_certificate needs an https:\/\/ endpoint/);
  });
});

describe("with listen.api_plain_http", () => {
  it("serves plain HTTP even with tls (for a TLS-terminating proxy in front)", async () => {
    const gateway = await startGateway(await loadConfig(configFile("{ api: 127.0.0.1:0, api_plain_http: true }", [TLS])));
    try {
      const health = await apiRequest(new URL(`http://127.0.0.1:${gateway.ports.api}/healthz`), { method: "GET" });
      expect(health.status).toBe(200);
    } finally {
      await gateway.close();
    }
  });
});

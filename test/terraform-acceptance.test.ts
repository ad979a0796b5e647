// terraform-provider-hoopgate driven by the real terraform binary against a real gateway
// (startGateway: admin API + PostgreSQL proxy in front of the machine's PostgreSQL), the
// provider installed as a filesystem mirror exactly as `hoopgate provider install` does it.

import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compilePaths, signBundle } from "../compiler/index.js";
import { apiRequest } from "../runtime/api/http-client.js";
import { loadConfig } from "../runtime/config/index.js";
import { startGateway, type Gateway } from "../runtime/gateway/index.js";
import { startDevIssuer, type DevIssuer } from "../runtime/identity/index.js";
import { installProvider } from "../terraform/install.js";
import { selfSignedCertificate } from "../terraform/protocol/cert.js";
import { makeApiCertificates, type ApiCertificates } from "./support/api-tls.js";
import { freshDatabase, PG } from "./support/pg-gateway.js";
import { expectExit, requireTerraform, Terraform, type TerraformRun } from "./support/terraform-cli.js";

const ROOT = join(import.meta.dirname, "..");
const DATABASE = "hoopgate_tf_acc";
const ADMIN_TOKEN = "tf-acceptance-admin-token-0123456789";

const policy = (issuer: string, extraRule = ""): string => `connection orders {
  kind = postgres
  tags = ["prod"]
}

group ci {
  issuer = "${issuer}"
  when   = claims.repository == "acme/api"
}

policy ci-orders {
  subjects    = [group.ci]
  connections = [connection.orders]

  deny  when sql.command in [drop, truncate] { reason = "no schema changes" }
${extraRule}  allow when sql.command == select
}

test ci-reads {
  subject    = { iss = "${issuer}", sub = "ci", repository = "acme/api" }
  connection = connection.orders

  expect allow sql "SELECT 1"
}
`;

const mainTf = (endpoint: string, issuer: DevIssuer): string => `terraform {
  required_providers {
    hoopgate = { source = "hoopgate/hoopgate", version = "0.1.0" }
  }
}

provider "hoopgate" {
  endpoint       = "${endpoint}"
  ca_certificate = file("api-ca.pem")
}

data "hoopgate_policy_bundle" "main" {
  path            = "policies"
  run_tests       = true
  signing_key_pem = file("signing.pem")
  signing_kid     = "k1"
}

resource "hoopgate_bundle" "main" {
  bundle = data.hoopgate_policy_bundle.main.bundle
}

resource "hoopgate_token_issuer" "ci" {
  issuer   = "${issuer.issuer}"
  audience = ["${issuer.audience}"]
  jwks_url = "${issuer.jwksUrl}"
}

resource "hoopgate_connection" "orders" {
  name     = "orders"
  target   = "postgres://postgres@127.0.0.1:5432/${DATABASE}"
  tls_mode = "disable"
}

resource "hoopgate_approval_webhook" "approvals" {
  url = "http://127.0.0.1:9/approvals"
}
`;

// Each terraform command starts the provider (node + grpc-js) two or three times.
describe("terraform-provider-hoopgate with terraform", { timeout: 60_000 }, () => {
  let scratch: string;
  let work: string;
  let mirror: string;
  let terraform: Terraform;
  let issuer: DevIssuer;
  let gateway: Gateway;
  let endpoint: string;
  let certs: ApiCertificates;
  const timings: Record<string, number> = {};

  const tf = async (what: string, args: string[], code: number, cwd = work): Promise<TerraformRun> => {
    const run = expectExit(await terraform.run(cwd, [...args, "-no-color"]), code, what);
    timings[what] = run.ms;
    return run;
  };
  /** the admin API over HTTPS, trusting the test CA; answers like fetch's Response as far as the tests use it */
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; json(): Promise<unknown> }> => {
    const response = await apiRequest(new URL(`${endpoint}/api/admin/${path}`), {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined && { "content-type": "application/json" }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      ca: certs.ca,
    });
    return { status: response.status, json: async () => JSON.parse(response.text) as unknown };
  };
  const query = async (sql: string): Promise<pg.QueryResult> => {
    const token = await issuer.issue({ sub: "ci", claims: { repository: "acme/api" } });
    const client = new pg.Client({ host: "127.0.0.1", port: gateway.ports.postgres, user: "ci", database: "orders", password: token });
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    requireTerraform();
    if (!existsSync(join(ROOT, "dist", "terraform", "main.js")) || !existsSync(join(ROOT, "dist", "examples", "cdktf-live", "main.js"))) {
      throw new Error("the acceptance suite runs the built provider and example: run `npm run build` first");
    }
    await freshDatabase(DATABASE);
    const direct = new pg.Client({ ...PG, database: DATABASE });
    await direct.connect();
    await direct.query("create table tf_acc_orders (id int primary key, total numeric); insert into tf_acc_orders values (1, 10), (2, 20)");
    await direct.end();

    scratch = mkdtempSync(join(tmpdir(), "hoopgate-tf-"));
    work = join(scratch, "work");
    mirror = join(scratch, "mirror");
    mkdirSync(join(work, "policies"), { recursive: true });
    await installProvider(mirror);

    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    writeFileSync(join(work, "signing.pem"), privateKey.export({ type: "pkcs8", format: "pem" }));
    writeFileSync(join(scratch, "bundle-pub.jwk"), JSON.stringify(publicKey.export({ format: "jwk" })));
    // the API is served over HTTPS (the config has tls), with a certificate from a private CA the provider is given
    certs = await makeApiCertificates(scratch);
    writeFileSync(join(work, "api-ca.pem"), certs.ca);
    writeFileSync(join(scratch, "gateway.yaml"), [
      "listen: { postgres: 127.0.0.1:0, api: 127.0.0.1:0 }",
      "tls: { cert_file: ./api.crt, key_file: ./api.key }",
      "bundle: { path: ./bundle.json, keys: [ { kid: k1, jwk_file: ./bundle-pub.jwk } ], reload_interval: 60s }",
      "auth: { allow_cleartext_on_loopback: true }",
      `admin: { token: ${ADMIN_TOKEN} }`,
      "log: { level: error }",
    ].join("\n"));
    gateway = await startGateway(await loadConfig(join(scratch, "gateway.yaml")));
    endpoint = `https://127.0.0.1:${gateway.ports.api}`;
    issuer = await startDevIssuer();
    writeFileSync(join(work, "policies", "main.hoop"), policy(issuer.issuer));
    writeFileSync(join(work, "main.tf"), mainTf(endpoint, issuer));
    terraform = new Terraform(scratch, { HOOPGATE_TOKEN: ADMIN_TOKEN });
  });

  afterAll(async () => {
    console.log(`terraform timings (ms): ${JSON.stringify(timings)}`);
    await gateway?.close();
    await issuer?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("inits from the mirror, plans, applies, then plans nothing", async () => {
    await tf("init", ["init", `-plugin-dir=${mirror}`, "-input=false"], 0);
    const plan = await tf("plan", ["plan", "-out=tfplan", "-detailed-exitcode"], 2);
    expect(plan.stdout).toContain("Plan: 4 to add, 0 to change, 0 to destroy.");
    await tf("apply", ["apply", "tfplan"], 0);
    await tf("no-op plan", ["plan", "-detailed-exitcode"], 0);
    const connection = await (await api("GET", "connections/orders")).json();
    expect(connection).toMatchObject({ name: "orders", target: `postgres://postgres@127.0.0.1:5432/${DATABASE}`, source: "admin", tls: { mode: "disable" } });
    const result = await query("SELECT count(*)::int AS n FROM tf_acc_orders");
    expect(result.rows).toEqual([{ n: 2 }]);
  });

  it("plans and applies a policy change that the proxy then enforces", async () => {
    const before = (await (await api("GET", "bundle")).json()) as { sha256: string };
    writeFileSync(join(work, "policies", "main.hoop"), policy(issuer.issuer, '  deny  when sql.tables has_any ["tf_acc_orders"] { reason = "orders are frozen" }\n'));
    const plan = await tf("plan after policy change", ["plan", "-out=tfplan", "-detailed-exitcode"], 2);
    expect(plan.stdout).toContain("hoopgate_bundle.main will be updated in-place");
    expect(plan.stdout).toContain(`~ sha256 = "${before.sha256}" -> `);
    expect(plan.stdout).toContain("Plan: 0 to add, 1 to change, 0 to destroy.");
    await tf("apply policy change", ["apply", "tfplan"], 0);
    const after = (await (await api("GET", "bundle")).json()) as { sha256: string };
    expect(after.sha256).not.toBe(before.sha256);
    await expect(query("SELECT count(*) FROM tf_acc_orders")).rejects.toMatchObject({ code: "42501", message: expect.stringContaining("orders are frozen") });
  });

  it("shows drift made through the admin API and repairs it", async () => {
    const old = compilePaths([join(ROOT, "examples", "cdktf-live", "policies")]);
    const signed = signBundle(old.bundle!, readFileSync(join(work, "signing.pem"), "utf8"), "k1");
    expect((await api("PUT", "bundle", { bundle: signed })).status).toBe(200);
    expect((await api("PUT", "connections/orders", { target: "postgres://postgres@127.0.0.1:5432/postgres", tls: { mode: "require" } })).status).toBe(200);
    const plan = await tf("plan with drift", ["plan", "-detailed-exitcode"], 2);
    expect(plan.stdout).toContain("hoopgate_connection.orders will be updated in-place");
    expect(plan.stdout).toContain(`~ target   = "postgres://postgres@127.0.0.1:5432/postgres" -> "postgres://postgres@127.0.0.1:5432/${DATABASE}"`);
    expect(plan.stdout).toContain('~ tls_mode = "require" -> "disable"');
    expect(plan.stdout).toContain("hoopgate_bundle.main will be updated in-place");
    expect(plan.stdout).toContain(`~ sha256 = "${old.bundle!.sha256}" -> `);
    await tf("apply repairing drift", ["apply", "-auto-approve"], 0);
    await tf("plan after repair", ["plan", "-detailed-exitcode"], 0);
  });

  it("imports a connection, a token issuer and a webhook by id", async () => {
    const [webhook] = (await (await api("GET", "webhooks")).json()) as { id: string }[];
    await tf("state rm", ["state", "rm", "hoopgate_connection.orders", "hoopgate_token_issuer.ci", "hoopgate_approval_webhook.approvals"], 0);
    const missing = await tf("import of a missing webhook", ["import", "hoopgate_approval_webhook.approvals", "no-such-webhook"], 1);
    expect(missing.stderr).toContain("Cannot import non-existent remote object");
    const imported = await tf("import connection", ["import", "hoopgate_connection.orders", "orders"], 0);
    expect(imported.stdout).toContain("Import successful!");
    await tf("import issuer", ["import", "hoopgate_token_issuer.ci", issuer.issuer], 0);
    await tf("import webhook", ["import", "hoopgate_approval_webhook.approvals", webhook!.id], 0);
    await tf("plan after import", ["plan", "-detailed-exitcode"], 0);
  });

  it("destroys: the connection is gone and a client is refused", async () => {
    await tf("destroy", ["destroy", "-auto-approve"], 0);
    expect((await api("GET", "connections/orders")).status).toBe(404);
    expect((await api("GET", "webhooks")).status).toBe(200);
    expect(await (await api("GET", "webhooks")).json()).toEqual([]);
    // the issuer went with the rest: the token is refused before the connection is looked up
    await expect(query("SELECT 1")).rejects.toMatchObject({ code: "28P01", message: expect.stringMatching(/^token rejected: token issuer ".*" is not trusted$/) });
  });

  it("fails plan on a broken policy with the compiler's located message", async () => {
    writeFileSync(join(work, "policies", "main.hoop"), policy(issuer.issuer).replace("sql.command == select", "sql.comand == select"));
    const plan = await tf("plan with broken policy", ["plan"], 1);
    expect(plan.stderr).toMatch(/policy error: policies\/main\.hoop:16:14: unknown attribute `sql\.comand`/);
    expect(plan.stderr).toContain("did you mean `sql.command`?");
  });

  it("synthesizes the cdktf-live example and applies it through the same mirror", async () => {
    const outdir = join(scratch, "cdktf.out");
    writeFileSync(join(scratch, "live-ca.pem"), selfSignedCertificate().certPem);
    // cdktf's default local backend keeps the state next to where the app ran: the scratch directory
    execFileSync(process.execPath, [join(ROOT, "dist", "examples", "cdktf-live", "main.js")], {
      cwd: scratch,
      env: {
        ...process.env,
        CDKTF_OUTDIR: outdir,
        HOOPGATE_ENDPOINT: endpoint,
        // put in the provider block (ca_certificate) at synth; terraform itself runs without HOOPGATE_CA_FILE
        HOOPGATE_CA_FILE: certs.caFile,
        HOOPGATE_SIGNING_KEY_FILE: join(work, "signing.pem"),
        HOOPGATE_ISSUER: issuer.issuer,
        HOOPGATE_JWKS_URL: issuer.jwksUrl,
        HOOPGATE_CONNECTION: "live-orders",
        HOOPGATE_TARGET: `postgres://postgres@127.0.0.1:5432/${DATABASE}`,
        // read by terraform (Fn.file); no session goes to live-orders, so no server needs to present a certificate
        HOOPGATE_TLS_CA_FILE: join(scratch, "live-ca.pem"),
        HOOPGATE_WEBHOOK_URL: "http://127.0.0.1:9/live",
      },
    });
    const stack = join(outdir, "stacks", "live-gateway");
    const synthesized = readFileSync(join(stack, "cdk.tf.json"), "utf8");
    expect(synthesized).not.toContain("PRIVATE KEY");
    await tf("cdktf init", ["init", `-plugin-dir=${mirror}`, "-input=false"], 0, stack);
    const apply = await tf("cdktf apply", ["apply", "-auto-approve"], 0, stack);
    expect(apply.stdout).toContain("Apply complete! Resources: 4 added, 0 changed, 0 destroyed.");
    expect(await (await api("GET", "connections/live-orders")).json()).toMatchObject({
      name: "live-orders", source: "admin", tls: { mode: "verify-full", ca_set: true, client_cert_set: false },
    });
    const sha256 = /bundle_sha256 = "([0-9a-f]{64})"/.exec(apply.stdout)?.[1];
    expect(sha256).toBeDefined();
    expect(await (await api("GET", "bundle")).json()).toMatchObject({ sha256 });
  });
});

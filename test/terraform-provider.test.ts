// The provider's own layers without terraform: msgpack values with unknowns, planning rules,
// the go-plugin handshake and the AutoMTLS certificate, and a real gRPC call over mutual TLS
// to a provider process started the way terraform starts it.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { join } from "node:path";
import { credentials, type ServiceClientConstructor } from "@grpc/grpc-js";
import { encode } from "@msgpack/msgpack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../runtime/config/index.js";
import { startGateway, type Gateway } from "../runtime/gateway/index.js";
import { AdminClient } from "../terraform/client.js";
import { terraformPlatform } from "../terraform/install.js";
import { selfSignedCertificate } from "../terraform/protocol/cert.js";
import { handshakeLine, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, readHandshakeEnv } from "../terraform/protocol/handshake.js";
import { loadProtocol } from "../terraform/protocol/load.js";
import { decodeDynamic, encodeDynamic, UNKNOWN, type TfObject } from "../terraform/protocol/values.js";
import { connection } from "../terraform/resources/connection.js";
import { encodeSchema } from "../terraform/schema/encode.js";
import { planResource } from "../terraform/schema/plan.js";
import { normalize, type BlockSpec } from "../terraform/schema/types.js";

const ROOT = join(import.meta.dirname, "..");

describe("values", () => {
  it("round-trips objects with unknowns as msgpack extension 0", () => {
    const value = { name: "orders", id: UNKNOWN, tags: ["a", UNKNOWN], n: 3, ok: true, gone: null };
    const wire = encodeDynamic(value);
    expect(Buffer.from(wire.msgpack!).includes(Buffer.from([0xd4, 0x00, 0x00]))).toBe(true);
    expect(decodeDynamic(wire)).toEqual(value);
  });

  it("reads any extension type as unknown, and JSON dynamic values", () => {
    const refined = Buffer.concat([Buffer.from([0x81, 0xa1, 0x78]), Buffer.from([0xd5, 0x0c, 0x01, 0x02])]);
    expect(decodeDynamic({ msgpack: refined })).toEqual({ x: UNKNOWN });
    expect(decodeDynamic({ json: Buffer.from('{"a":[1,"b"]}') })).toEqual({ a: [1, "b"] });
    expect(decodeDynamic({ msgpack: encode(null) })).toBeNull();
    expect(decodeDynamic(undefined)).toBeNull();
  });
});

describe("planning", () => {
  const block: BlockSpec = {
    description: "t",
    attributes: {
      name: { type: "string", required: true, requiresReplace: true, description: "" },
      target: { type: "string", required: true, description: "" },
      id: { type: "string", computed: true, keepPriorOnUnknown: true, description: "" },
      version: { type: "string", computed: true, description: "" },
    },
  };
  const prior = { name: "a", target: "t1", id: "a", version: "v1" };

  it("plans computed attributes the config leaves null as unknown on create", () => {
    const config = { name: "a", target: "t1", id: null, version: null };
    expect(planResource(block, null, config, config).planned).toEqual({ name: "a", target: "t1", id: UNKNOWN, version: UNKNOWN });
  });

  it("plans no change as the prior state", () => {
    const config = { name: "a", target: "t1", id: null, version: null };
    expect(planResource(block, prior, { ...prior }, config)).toEqual({ planned: prior, requiresReplace: [] });
  });

  it("keeps prior ids on update, makes other computed values unknown", () => {
    const config = { name: "a", target: "t2", id: null, version: null };
    const plan = planResource(block, prior, { ...prior, target: "t2" }, config);
    expect(plan).toEqual({ planned: { name: "a", target: "t2", id: "a", version: UNKNOWN }, requiresReplace: [] });
  });

  it("asks for replacement when a requires-replace attribute changes", () => {
    const config = { name: "b", target: "t1", id: null, version: null };
    const plan = planResource(block, prior, { ...prior, name: "b" }, config);
    expect(plan.requiresReplace).toEqual(["name"]);
    expect(plan.planned).toMatchObject({ id: UNKNOWN, version: UNKNOWN });
  });

  it("treats derived values as planned and as a change (drift of a digest)", () => {
    const config = { name: "a", target: "t1", id: null, version: null };
    const plan = planResource(block, prior, { ...prior }, config, { version: "v2" });
    expect(plan.planned).toEqual({ ...prior, version: "v2" });
  });

  it("plans destroy as null", () => {
    expect(planResource(block, prior, null, null).planned).toBeNull();
  });
});

describe("hoopgate_connection tls", () => {
  const REMOTE = "postgres://app@db.internal:5432/orders";
  const LOOPBACK = "postgres://postgres@127.0.0.1:5432/postgres";
  const ca = selfSignedCertificate();
  const client = selfSignedCertificate();
  /** a configuration as terraform sends it: every attribute, unset ones null */
  const config = (values: TfObject): TfObject => normalize(connection.schema, { name: "orders", target: REMOTE, ...values });
  const plan = (prior: TfObject | null, values: TfObject, proposed?: TfObject) => {
    const c = config(values);
    // terraform proposes the prior value for an optional computed attribute the configuration leaves null
    const p = proposed ?? { ...c, ...(prior !== null && c.tls_mode === null && { tls_mode: prior.tls_mode ?? null }), id: prior?.id ?? null };
    return planResource(connection.schema, prior, p, c, connection.derive!(p, c));
  };
  const problems = (values: TfObject) => connection.validate!(config(values)).map((d) => `${d.path.join(".")}: ${d.detail}`);

  it("declares tls_mode (optional, computed), tls_ca, tls_cert and tls_key (sensitive)", () => {
    const attributes = encodeSchema(connection.schema).block.attributes as { name: string; optional: boolean; computed: boolean; sensitive: boolean }[];
    const flags = Object.fromEntries(attributes.map((a) => [a.name, [a.optional, a.computed, a.sensitive]]));
    expect(flags).toMatchObject({
      tls_mode: [true, true, false], tls_ca: [true, false, false], tls_cert: [true, false, false], tls_key: [true, false, true], password: [true, false, true],
    });
  });

  it("validates with the gateway's rules at plan time, and waits for unknown values", () => {
    expect(problems({ tls_mode: "verify-full", tls_ca: ca.certPem, tls_cert: client.certPem, tls_key: client.keyPem })).toEqual([]);
    expect(problems({ tls_mode: "prefer" })).toEqual(["tls_mode: tls_mode must be one of disable, require, verify-ca, verify-full"]);
    expect(problems({ tls_mode: "verify-ca" })).toEqual([
      "tls_mode: tls_mode verify-ca needs tls_ca: against the public roots any certificate they issued would pass (use verify-full)",
    ]);
    expect(problems({ tls_mode: "disable", tls_ca: ca.certPem })).toEqual(["tls_ca: tls_ca has no effect with mode disable"]);
    expect(problems({ tls_ca: "not a certificate" })).toEqual(["tls_ca: tls_ca holds no PEM certificate"]);
    expect(problems({ tls_cert: client.certPem })).toEqual(["tls_key: tls_key is required with tls_cert"]);
    expect(problems({ tls_cert: client.certPem, tls_key: ca.keyPem })[0]).toMatch(/^tls_cert: tls_cert cannot be used with tls_key/);
    expect(problems({ target: "ssh://deploy@10.0.0.7:22", tls_mode: "disable" })).toEqual(["tls_mode: an ssh connection takes no tls_* attributes"]);
    expect(problems({ tls_mode: "verify-ca", tls_ca: UNKNOWN })).toEqual([]);
  });

  it("validates require_auth at plan time", () => {
    expect(problems({ require_auth: ["scram-sha-256", "md5"] })).toEqual([]);
    expect(problems({ require_auth: ["kerberos"] })).toEqual(["require_auth: kerberos is not one of scram-sha-256, md5, password, none"]);
    expect(problems({ require_auth: [] })).toEqual(["require_auth: list at least one method, or leave it out for the default"]);
    expect(problems({ require_auth: ["md5", "md5"] })).toEqual(["require_auth: a method is listed twice"]);
    expect(problems({ target: "ssh://deploy@10.0.0.7:22", require_auth: ["password"] })).toEqual(["require_auth: an ssh connection takes no require_auth"]);
  });

  it("plans the mode in force: as configured, else the gateway's default for the target", () => {
    expect(plan(null, {}).planned).toMatchObject({ tls_mode: "verify-full", id: UNKNOWN });
    expect(plan(null, { target: LOOPBACK }).planned).toMatchObject({ tls_mode: "disable" });
    expect(plan(null, { target: LOOPBACK, password: "pw" }).planned).toMatchObject({ tls_mode: "verify-full" });
    expect(plan(null, { target: LOOPBACK, tls_ca: ca.certPem }).planned).toMatchObject({ tls_mode: "verify-full" });
    expect(plan(null, { target: LOOPBACK, password: UNKNOWN }).planned).toMatchObject({ tls_mode: "verify-full" });
    expect(plan(null, { tls_mode: "require" }).planned).toMatchObject({ tls_mode: "require" });
    expect(plan(null, { target: "ssh://deploy@10.0.0.7:22" }).planned).toMatchObject({ tls_mode: null });
    expect(plan(null, { target: UNKNOWN }).planned).toMatchObject({ tls_mode: UNKNOWN });
  });

  it("plans a mode dropped from the configuration, or changed on the gateway, back to the default", () => {
    const prior = { ...config({ tls_mode: "disable" }), id: "orders" };
    expect(plan(prior, { tls_mode: "disable" })).toEqual({ planned: prior, requiresReplace: [] });
    expect(plan(prior, {}).planned).toEqual({ ...prior, tls_mode: "verify-full" });
    const inForce = { ...config({}), tls_mode: "verify-full", id: "orders" };
    expect(plan(inForce, {})).toEqual({ planned: inForce, requiresReplace: [] });
    expect(plan({ ...inForce, tls_mode: "require" }, {}).planned).toEqual(inForce);
  });

  describe("applied to a gateway's admin API", () => {
    const ADMIN_TOKEN = "tf-provider-test-admin-token-0123";
    let dir: string;
    let gateway: Gateway;
    let api: AdminClient;
    const apply = async (prior: TfObject | null, values: TfObject): Promise<TfObject> => {
      const planned = normalize(connection.schema, plan(prior, values).planned!);
      return prior === null ? connection.create(api, planned) : connection.update(api, planned, prior);
    };
    const read = async (state: TfObject) => normalize(connection.schema, (await connection.read(api, state))!);
    const view = () => api.get<{ password_set: boolean; tls: object }>("connections/orders");

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "hoopgate-tf-provider-"));
      writeFileSync(join(dir, "pub.jwk"), JSON.stringify(generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" })));
      writeFileSync(join(dir, "gateway.yaml"), [
        "listen: { api: 127.0.0.1:0 }",
        "bundle: { path: ./bundle.json, keys: [ { kid: k1, jwk_file: ./pub.jwk } ] }",
        `admin: { token: ${ADMIN_TOKEN} }`,
        "audit: { file: ./.hoopgate/audit.jsonl }",
        "log: { level: silent }",
      ].join("\n"));
      gateway = await startGateway(await loadConfig(join(dir, "gateway.yaml")));
      api = new AdminClient(`http://127.0.0.1:${gateway.ports.api}`, ADMIN_TOKEN);
    });

    afterAll(async () => {
      await gateway?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("sends the TLS settings in the PUT and keeps the write-only PEMs in the state", async () => {
      const values = { password: "pw", tls_mode: "verify-ca", tls_ca: ca.certPem, tls_cert: client.certPem, tls_key: client.keyPem };
      const state = await apply(null, values);
      expect(state).toEqual({ ...config(values), id: "orders" });
      expect(await view()).toMatchObject({ password_set: true, tls: { mode: "verify-ca", ca_set: true, client_cert_set: true } });
      expect(await read(state)).toEqual(state);

      // an update replaces the whole connection: what the configuration no longer sets is gone
      const next = await apply(state, { password: "pw" });
      expect(next).toMatchObject({ tls_mode: "verify-full", tls_ca: null, tls_key: null });
      expect(await view()).toMatchObject({ tls: { mode: "verify-full", ca_set: false, client_cert_set: false } });
    });

    it("reads the mode in force, and a PEM or password removed behind terraform's back, as drift", async () => {
      const state = await apply(null, { password: "pw", tls_ca: ca.certPem });
      expect(state.tls_mode).toBe("verify-full");
      await api.put("connections/orders", { target: REMOTE, tls: { mode: "require" } });
      const drifted = await read(state);
      expect(drifted).toEqual({ ...state, password: null, tls_mode: "require", tls_ca: null });
      const repair = plan(drifted, { password: "pw", tls_ca: ca.certPem }).planned;
      expect(repair).toEqual(state);
      expect(await apply(drifted, { password: "pw", tls_ca: ca.certPem })).toEqual(state);
      expect(await view()).toMatchObject({ password_set: true, tls: { mode: "verify-full", ca_set: true } });
    });

    it("sends require_auth, reads it back, and puts it back when it is dropped behind terraform's back", async () => {
      const state = await apply(null, { tls_mode: "disable", require_auth: ["md5"] });
      expect(await view()).toMatchObject({ require_auth: ["md5"] });
      expect(await read(state)).toEqual(state);
      expect(gateway.admin.live.target("orders")).toMatchObject({ requireAuth: ["md5"] });
      await api.put("connections/orders", { target: REMOTE, tls: { mode: "disable" } });
      const drifted = await read(state);
      expect(drifted.require_auth).toBeNull();
      expect(await apply(drifted, { tls_mode: "disable", require_auth: ["md5"] })).toEqual(state);
      expect(await apply(state, { tls_mode: "disable" })).toMatchObject({ require_auth: null });
      expect(await view()).not.toHaveProperty("require_auth");
    });

    it("imports a connection with its mode in force", async () => {
      await api.put("connections/orders", { target: LOOPBACK });
      expect(await read(normalize(connection.schema, connection.importState("orders")))).toMatchObject({ target: LOOPBACK, tls_mode: "disable", password: null });
    });
  });
});

describe("handshake", () => {
  const env = { [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE, PLUGIN_PROTOCOL_VERSIONS: "5,6", PLUGIN_CLIENT_CERT: "pem", PLUGIN_MIN_PORT: "10000", PLUGIN_MAX_PORT: "10010" };

  it("checks the magic cookie, the protocol version and the client certificate", () => {
    expect(readHandshakeEnv(env)).toEqual({ clientCertPem: "pem", minPort: 10000, maxPort: 10010 });
    expect(() => readHandshakeEnv({ ...env, [MAGIC_COOKIE_KEY]: "x" })).toThrow(/meant to be executed by terraform/);
    expect(() => readHandshakeEnv({ ...env, PLUGIN_PROTOCOL_VERSIONS: "5" })).toThrow(/speaks only 6/);
    expect(() => readHandshakeEnv({ ...env, PLUGIN_CLIENT_CERT: "" })).toThrow(/AutoMTLS/);
    expect(() => readHandshakeEnv({ ...env, PLUGIN_MIN_PORT: "20000" })).toThrow(/port range/);
  });

  it("presents a self-signed P-256 certificate for localhost, announced without base64 padding", () => {
    const cert = selfSignedCertificate();
    const x509 = new X509Certificate(cert.der);
    expect(x509.subjectAltName).toBe("DNS:localhost");
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    const line = handshakeLine(12345, cert.der);
    expect(line).toMatch(/^1\|6\|tcp\|127\.0\.0\.1:12345\|grpc\|[A-Za-z0-9+/]+\n$/);
    expect(Buffer.from(line.trim().split("|")[5]!, "base64").equals(cert.der)).toBe(true);
  });
});

describe("provider process", () => {
  it("serves GetProviderSchema over mutual TLS and exits on Shutdown", async () => {
    const client = selfSignedCertificate();
    const child = spawn(process.execPath, [join(ROOT, "dist", "terraform", "main.js")], {
      env: { ...process.env, [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE, PLUGIN_PROTOCOL_VERSIONS: "6", PLUGIN_CLIENT_CERT: client.certPem, PLUGIN_MIN_PORT: "20000", PLUGIN_MAX_PORT: "25000" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString()));
      child.once("exit", (code) => reject(new Error(`provider exited ${code}: is dist/ built (npm run build)?`)));
    });
    const [, , , address, , certB64] = line.trim().split("|");
    const serverPem = new X509Certificate(Buffer.from(certB64!, "base64")).toString();
    const tls = credentials.createSsl(Buffer.from(serverPem), Buffer.from(client.keyPem), Buffer.from(client.certPem));
    const protocol = loadProtocol();
    const call = <T>(service: ServiceClientConstructor, method: string): Promise<T> => {
      const stub = new service(address!, tls, { "grpc.ssl_target_name_override": "localhost" });
      return new Promise<T>((resolve, reject) => {
        (stub as unknown as Record<string, (req: object, cb: (e: Error | null, r: T) => void) => void>)[method]!({}, (error, response) => {
          stub.close();
          if (error) reject(error);
          else resolve(response);
        });
      });
    };
    const schema = await call<{ resource_schemas: Record<string, unknown>; data_source_schemas: Record<string, unknown> }>(protocol.provider, "GetProviderSchema");
    expect(Object.keys(schema.resource_schemas).sort()).toEqual(["hoopgate_approval_webhook", "hoopgate_bundle", "hoopgate_connection", "hoopgate_token_issuer"]);
    expect(Object.keys(schema.data_source_schemas)).toEqual(["hoopgate_policy_bundle"]);

    // a client with a certificate terraform did not hand over is refused
    const stranger = selfSignedCertificate();
    const strangerTls = credentials.createSsl(Buffer.from(serverPem), Buffer.from(stranger.keyPem), Buffer.from(stranger.certPem));
    const refused = new protocol.provider(address!, strangerTls, { "grpc.ssl_target_name_override": "localhost" });
    await expect(new Promise((resolve, reject) => {
      (refused as unknown as Record<string, (req: object, cb: (e: Error | null, r: unknown) => void) => void>).GetProviderSchema!({}, (e, r) => (e ? reject(e) : resolve(r)));
    })).rejects.toThrow();
    refused.close();

    await call(protocol.controller, "Shutdown");
    expect(await exited).toBe(0);
  });
});

describe("hoopgate provider install", () => {
  it("writes an executable launcher in the filesystem-mirror layout", () => {
    const dir = mkdtempSync(join(tmpdir(), "hoopgate-mirror-"));
    try {
      const run = spawnSync(process.execPath, [join(ROOT, "bin", "hoopgate.js"), "provider", "install", dir], { encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      const launcher = join(dir, "registry.terraform.io", "hoopgate", "hoopgate", "0.1.0", terraformPlatform(), "terraform-provider-hoopgate_v0.1.0");
      expect(statSync(launcher).mode & 0o111).toBe(0o111);
      expect(readFileSync(launcher, "utf8")).toContain(`exec '${process.execPath}' '${join(ROOT, "dist", "terraform", "main.js")}' "$@"`);
      expect(spawnSync(process.execPath, [join(ROOT, "bin", "hoopgate.js"), "provider", "install"], { encoding: "utf8" }).status).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

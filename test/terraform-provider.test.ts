// The provider's own layers without terraform: msgpack values with unknowns, planning rules,
// the go-plugin handshake and the AutoMTLS certificate, and a real gRPC call over mutual TLS
// to a provider process started the way terraform starts it.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import { credentials, type ServiceClientConstructor } from "@grpc/grpc-js";
import { encode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { terraformPlatform } from "../terraform/install.js";
import { selfSignedCertificate } from "../terraform/protocol/cert.js";
import { handshakeLine, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, readHandshakeEnv } from "../terraform/protocol/handshake.js";
import { loadProtocol } from "../terraform/protocol/load.js";
import { decodeDynamic, encodeDynamic, UNKNOWN } from "../terraform/protocol/values.js";
import { planResource } from "../terraform/schema/plan.js";
import type { BlockSpec } from "../terraform/schema/types.js";

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

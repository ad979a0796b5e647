// The gateway config that HoopGateway hands its container, taken from the synthesized example
// app and loaded by the runtime: what cdktf writes is what `hoopgate serve` accepts.
//
// Values AWS assigns at apply time are Terraform references in the synthesized JSON
// (`${aws_s3_bucket.….bucket}`, `${aws_secretsmanager_secret.….arn}`); they are replaced by
// fake but well-formed values, as Terraform would replace them by real ones. The bundle object
// and the connections' secrets are served by test/support/fake-aws.ts, a local stand-in for
// S3 and Secrets Manager (neither runs here) that the real AWS SDK reaches through its
// documented endpoint variables.

import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testing } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BundleSource } from "../runtime/bundle/source.js";
import { loadConfig } from "../runtime/config/index.js";
import { createLogger } from "../runtime/log.js";
import { HoopgateExampleStack } from "../examples/cdktf/stack.js";
import { selfSignedCertificate } from "../terraform/protocol/cert.js";
import { startFakeAws, type FakeAws } from "./support/fake-aws.js";

const ROOT = join(import.meta.dirname, "..");
const SIGNING_KEY_PEM = await readFile(join(ROOT, "test/fixtures/cdktf-signing-key.pem"), "utf8");
const REGION = "eu-west-1";
const ACCOUNT = "123456789012";
const FAKE_BUCKET = "hoopgate-bundles-20250101000000000000000001";
/** the stack's variable: the secret holding orders-db's CA bundle */
const ORDERS_DB_CA_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:orders-db-ca-AbCdEf`;
/** where the container's script writes its files; it is a fixed path in the image */
const CONTAINER_RUN_DIR = "/tmp/hoopgate";

type Json = Record<string, any>; // parsed Terraform JSON

interface ContainerDefinition {
  command: [string];
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
}

/**
 * A Terraform string as the apply would make it: references replaced by fake values of the
 * right shape, then the template escapes (`$${`, `%%{`) undone. An unknown reference fails.
 */
function applyTerraform(text: string, json: Json): string {
  const replaced = text.replace(/(?<![$%])\$\{([^}]+)\}/g, (_all, ref: string) => {
    const secret = /^aws_secretsmanager_secret\.([A-Za-z0-9_-]+)\.arn$/.exec(ref);
    if (secret !== null) {
      const prefix = (json.resource.aws_secretsmanager_secret[secret[1]!] as Json).name_prefix as string;
      return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${prefix}20250101-AbCdEf`;
    }
    if (/^aws_s3_bucket\.[A-Za-z0-9_-]+\.bucket$/.test(ref)) return FAKE_BUCKET;
    if (/^data\.aws_region\.[A-Za-z0-9_-]+\.region$/.test(ref)) return REGION;
    if (ref === "var.orders_db_ca_secret_arn") return ORDERS_DB_CA_ARN;
    throw new Error(`no fake value for the Terraform reference \${${ref}}: add one to applyTerraform`);
  });
  return replaced.replace(/([$%])\1\{/g, "$1{");
}

let aws: FakeAws;
let json: Json;
let container: ContainerDefinition;
let runDir: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  json = JSON.parse(Testing.synth(new HoopgateExampleStack(Testing.app(), "hoopgate", {
    root: ROOT, signingKeyPem: SIGNING_KEY_PEM, region: REGION, image: "ghcr.io/acme/hoopgate:0.1.0", runTests: false,
  }))) as Json;
  const task = Object.values(json.resource.aws_ecs_task_definition as Record<string, Json>)[0]!;
  container = (JSON.parse(task.container_definitions as string) as ContainerDefinition[])[0]!;
  aws = await startFakeAws();
  for (const name of Object.keys(process.env)) if (name.startsWith("AWS_")) delete process.env[name];
  // credentials and endpoints as the ECS task would have them (task role; here: the stand-in)
  Object.assign(process.env, aws.env);
  delete process.env.AWS_REGION; // the test takes it from the container's environment
  runDir = await mkdtemp(join(tmpdir(), "hoopgate-container-"));
});

afterAll(async () => {
  process.env = savedEnv;
  await aws?.close();
  if (runDir !== undefined) await rm(runDir, { recursive: true, force: true });
});

/**
 * Runs the container's own start script up to `exec hoopgate serve`, with the container's run
 * directory moved to a temporary one (in the script and in the environment it is given).
 */
function runContainerScript(env: Record<string, string>): string {
  const moved = (text: string) => text.replaceAll(CONTAINER_RUN_DIR, runDir);
  const script = moved(applyTerraform(container.command[0], json));
  const serve = `exec hoopgate serve --config ${runDir}/gateway.json`;
  expect(script.endsWith(serve), "the script ends by starting the gateway").toBe(true);
  const movedEnv = Object.fromEntries(Object.entries(env).map(([name, value]) => [name, moved(value)]));
  const run = spawnSync("/bin/sh", ["-c", script.slice(0, -serve.length)], { env: { PATH: process.env.PATH, ...movedEnv }, encoding: "utf8" });
  expect(run.status, run.stderr).toBe(0);
  return join(runDir, "gateway.json");
}

describe("the example gateway's generated config", () => {
  it("is accepted by loadConfig, resolves its secrets, and its bundle loads from S3", async () => {
    const environment = Object.fromEntries(container.environment.map((e) => [e.name, applyTerraform(e.value, json)]));
    expect(Object.keys(environment).sort()).toEqual(["AWS_REGION", "HOOPGATE_CONFIG"]);
    const config = JSON.parse(environment.HOOPGATE_CONFIG!) as Json;

    // what Terraform uploads and stores: the bundle object and the connections' secret values
    const object = Object.values(json.resource.aws_s3_object as Record<string, Json>)[0]!;
    aws.objects.set(`${FAKE_BUCKET}/${object.key as string}`, { body: applyTerraform(object.content as string, json) });
    const ordersArn = config.connections["orders-db"].password as string;
    const bastionArn = config.connections.bastion.private_key as string;
    aws.secrets.set(ordersArn, "generated-orders-db-password");
    aws.secrets.set(bastionArn, "-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
    const caPem = selfSignedCertificate().certPem;
    aws.secrets.set(ORDERS_DB_CA_ARN, caPem);

    // ECS injects the TLS secrets the execution role reads; the script writes them next to the config
    expect(container.secrets.map((s) => s.name)).toEqual(["HOOPGATE_TLS_CERT", "HOOPGATE_TLS_KEY"]);
    const file = runContainerScript({
      ...environment,
      HOOPGATE_TLS_CERT: "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----",
      HOOPGATE_TLS_KEY: "-----BEGIN PRIVATE KEY-----\nfake\n-----END PRIVATE KEY-----",
    });
    const written = (await readFile(file, "utf8")).replaceAll(runDir, CONTAINER_RUN_DIR);
    expect(JSON.parse(written)).toEqual(config);

    process.env.AWS_REGION = environment.AWS_REGION;
    const loaded = await loadConfig(file);
    expect(loaded.bundle?.location).toEqual({
      kind: "s3", url: `s3://${FAKE_BUCKET}/${object.key as string}`, bucket: FAKE_BUCKET, key: object.key,
    });
    expect(loaded.bundle?.keys.map((k) => k.kid)).toEqual(["example-1"]);
    expect(loaded.issuers).toEqual([{
      issuer: "https://token.actions.githubusercontent.com",
      audience: ["hoopgate"],
      jwks: { url: "https://token.actions.githubusercontent.com/.well-known/jwks" },
    }]);
    expect(loaded.connections["orders-db"]).toMatchObject({
      target: { kind: "postgres", host: "orders.db.internal.acme.dev", port: 5432, user: "hoopgate", database: "orders" },
      password: "generated-orders-db-password",
      tls: { mode: "verify-full", ca: caPem },
    });
    expect(loaded.connections.bastion).toMatchObject({
      target: { kind: "ssh", host: "10.0.1.10", port: 22, user: "deploy" },
      privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n",
    });
    expect(loaded.tls?.certFile).toBe(join(runDir, "tls.crt"));
    expect(loaded.listen).toEqual({ postgres: { host: "0.0.0.0", port: 5432 }, ssh: { host: "0.0.0.0", port: 2222 }, api: { host: "0.0.0.0", port: 8080 } });

    const source = new BundleSource(loaded.bundle!, createLogger({ level: "silent" }));
    try {
      await source.start();
      expect(source.status().lastError).toBeUndefined();
      expect(Object.keys(source.current()?.bundle.connections ?? {}).sort()).toEqual(["bastion", "orders-db"]);
    } finally {
      source.close();
    }
    expect(aws.requests.map((r) => `${r.service} ${r.region}`)).toEqual([
      `secretsmanager ${REGION}`, `secretsmanager ${REGION}`, `secretsmanager ${REGION}`, `s3 ${REGION}`,
    ]);
  });
});

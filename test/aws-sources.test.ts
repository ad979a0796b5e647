// s3:// bundle sources and AWS Secrets Manager credentials, end to end through the real AWS
// SDK. S3 and Secrets Manager do not run here: test/support/fake-aws.ts is a local stand-in
// that answers the two calls the SDK makes (S3 GetObject on path-style URLs, Secrets
// Manager's JSON GetSecretValue), and the SDK is pointed at it with its documented endpoint
// variables (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SECRETS_MANAGER) and static test keys.

import { mkdtemp, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { signBundle } from "../compiler/sign.js";
import { fetchBundleText } from "../runtime/bundle/fetch.js";
import { BundleSource } from "../runtime/bundle/source.js";
import { ConfigError, loadConfig } from "../runtime/config/index.js";
import type { BundleConfig } from "../runtime/config/types.js";
import type { Engine } from "../runtime/engine/index.js";
import { createLogger } from "../runtime/log.js";
import { startFakeAws, type FakeAws } from "./support/fake-aws.js";
import { makeBundle, signingKey } from "./support/signed-bundles.js";
import { waitFor } from "./support/wait.js";

const key = signingKey("k1");
const signed = (connection: string, by = key) => signBundle(makeBundle(connection), by.pem, "k1");
/** a reload takes only a dated bundle (runtime/bundle/source.ts: rollback) */
let clock = Math.floor(Date.now() / 1000) - 3600;
const dated = (connection: string) => signBundle(makeBundle(connection), key.pem, "k1", { issuedAt: (clock += 60) });
const connectionsOf = (engine: Engine | undefined) => Object.keys(engine?.bundle.connections ?? {});
const sdkLoaded = (name: string) => Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes(`@aws-sdk/${name}/`));

const BUCKET = "hoopgate-bundles-test";
const OBJECT_KEY = "bundles/current.jws";
const S3_URL = `s3://${BUCKET}/${OBJECT_KEY}`;
const DB_ARN = "arn:aws:secretsmanager:us-east-2:123456789012:secret:hoopgate-orders-db-AbCdEf";
const RDS_ARN = "arn:aws:secretsmanager:us-east-2:123456789012:secret:rds!db-1234-XyZ123";
const KEY_ARN = "arn:aws:secretsmanager:us-east-2:123456789012:secret:hoopgate-bastion-QwErTy";
const MISSING_ARN = "arn:aws:secretsmanager:us-east-2:123456789012:secret:deleted-ZzZzZz";

let aws: FakeAws;
const savedEnv = { ...process.env };
const sources: BundleSource[] = [];
const logs: Record<string, unknown>[] = [];
const logger = createLogger({ level: "debug", destination: { write: (line: string) => void logs.push(JSON.parse(line)) } });

beforeAll(async () => {
  aws = await startFakeAws();
  // the SDK reads its endpoints, credentials and region from the process environment
  for (const name of Object.keys(process.env)) if (name.startsWith("AWS_")) delete process.env[name];
  Object.assign(process.env, aws.env);
});

afterAll(async () => {
  process.env = savedEnv;
  await aws?.close();
});

afterEach(() => {
  for (const s of sources.splice(0)) s.close();
  logs.length = 0;
  aws.objects.clear();
  aws.secrets.clear();
  aws.requests.length = 0;
});

async function s3Source(config: Partial<BundleConfig> = {}): Promise<BundleSource> {
  const location = { kind: "s3" as const, url: S3_URL, bucket: BUCKET, key: OBJECT_KEY };
  const s = new BundleSource({ location, keys: [key.trusted], reloadIntervalMs: 60_000, allowUnsigned: false, ...config }, logger);
  sources.push(s);
  await s.start();
  return s;
}

async function configFile(text: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), "hoopgate-aws-")), "gateway.yaml");
  await writeFile(path, text);
  return path;
}

async function configIssues(path: string): Promise<string[]> {
  const error = await loadConfig(path).then(() => undefined, (e: unknown) => e);
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  return error.issues.map((i) => `${i.path}: ${i.message}`);
}

const gatewayYaml = (connections: string) => `
listen: { postgres: 127.0.0.1:0 }
bundle:
  url: ${S3_URL}
  keys: [ { kid: k1, jwk: ${JSON.stringify(key.jwk)} } ]
connections:
${connections}
`;

describe("loading the AWS SDK", () => {
  it("does not happen for file bundles and env:/file: secrets", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hoopgate-aws-"));
    await writeFile(join(dir, "bundle.jws"), signed("local"));
    const path = join(dir, "gateway.yaml");
    await writeFile(path, `
listen: { postgres: 127.0.0.1:0 }
bundle: { path: ./bundle.jws, keys: [ { kid: k1, jwk: ${JSON.stringify(key.jwk)} } ] }
connections:
  local: { target: postgres://app@127.0.0.1:5432/app, password: env:HOOPGATE_TEST_PASSWORD }
`);
    const config = await loadConfig(path, { HOOPGATE_TEST_PASSWORD: "pw" });
    const s = new BundleSource(config.bundle!, logger);
    sources.push(s);
    await s.start();
    expect(connectionsOf(s.current())).toEqual(["local"]);
    expect(sdkLoaded("client-s3")).toBe(false);
    expect(sdkLoaded("client-secrets-manager")).toBe(false);
  });
});

describe("s3:// bundle source", () => {
  it("loads the object and verifies its signature", async () => {
    aws.objects.set(`${BUCKET}/${OBJECT_KEY}`, { body: signed("orders-db") });
    const s = await s3Source();
    expect(connectionsOf(s.current())).toEqual(["orders-db"]);
    expect(s.status()).toMatchObject({ origin: S3_URL, sha256: makeBundle("orders-db").sha256 });
    expect(aws.requests).toEqual([{ service: "s3", region: "eu-west-1", method: "GET", path: `/${BUCKET}/${OBJECT_KEY}` }]);
    expect(sdkLoaded("client-s3")).toBe(true);
  });

  it("refuses an object signed by a key it does not trust", async () => {
    aws.objects.set(`${BUCKET}/${OBJECT_KEY}`, { body: signed("evil", signingKey("k1")) });
    const s = await s3Source();
    expect(s.current()).toBeUndefined();
    expect(s.status().lastError).toMatch(/^bundle signature: /);
  });

  it("hot-reloads a changed object on its polling interval and skips an unchanged one", async () => {
    aws.objects.set(`${BUCKET}/${OBJECT_KEY}`, { body: signed("v1") });
    const s = await s3Source({ reloadIntervalMs: 100 });
    const seen: string[][] = [];
    s.onChange((engine) => seen.push(connectionsOf(engine)));
    await waitFor("two more polls", () => aws.requests.length >= 3);
    expect(seen).toEqual([]);
    aws.objects.set(`${BUCKET}/${OBJECT_KEY}`, { body: dated("v2") });
    await waitFor("the changed object to load", () => connectionsOf(s.current())[0] === "v2");
    expect(seen).toEqual([["v2"]]);
  });

  it("keeps the last good bundle through a 403 and a 404, and recovers", async () => {
    aws.objects.set(`${BUCKET}/${OBJECT_KEY}`, { body: signed("good") });
    const s = await s3Source();

    aws.objects.set(`${BUCKET}/${OBJECT_KEY}`, { status: 403 });
    expect(await s.reload()).toBe(false);
    expect(connectionsOf(s.current())).toEqual(["good"]);
    expect(s.status().lastError).toBe(`cannot read the bundle: GET ${S3_URL}: AccessDenied (HTTP 403): Access Denied`);

    aws.objects.delete(`${BUCKET}/${OBJECT_KEY}`);
    expect(await s.reload()).toBe(false);
    expect(connectionsOf(s.current())).toEqual(["good"]);
    expect(s.status().lastError).toBe(`cannot read the bundle: GET ${S3_URL}: NoSuchKey (HTTP 404): The specified key does not exist.`);
    expect(logs).toContainEqual(expect.objectContaining({ level: 50, msg: "bundle refused; keeping the last good bundle" }));

    aws.objects.set(`${BUCKET}/${OBJECT_KEY}`, { body: dated("next") });
    expect(await s.reload()).toBe(true);
    expect(connectionsOf(s.current())).toEqual(["next"]);
    expect(s.status().lastError).toBeUndefined();
  });

  it("says which setting is missing when the region is unknown", async () => {
    delete process.env.AWS_REGION;
    try {
      await expect(fetchBundleText({ kind: "s3", url: S3_URL, bucket: BUCKET, key: OBJECT_KEY })).rejects.toThrow(
        `GET ${S3_URL}: the AWS region is not known; set AWS_REGION (ECS sets it in Fargate tasks)`,
      );
    } finally {
      process.env.AWS_REGION = aws.env.AWS_REGION;
    }
  });

  it("is configured with bundle.url, and bundle.path refuses URLs", async () => {
    const config = await loadConfig(await configFile(gatewayYaml("  {}")));
    expect(config.bundle?.location).toEqual({ kind: "s3", url: S3_URL, bucket: BUCKET, key: OBJECT_KEY });

    const bad = await configFile(`
listen: { postgres: 127.0.0.1:0 }
bundle: { path: "${S3_URL}", allow_unsigned: true }
`);
    expect(await configIssues(bad)).toEqual(["bundle.path: is a file path; put s3:// and https:// sources in bundle.url"]);
    const noKey = await configFile(`
listen: { postgres: 127.0.0.1:0 }
bundle: { url: "s3://${BUCKET}/", allow_unsigned: true }
`);
    expect(await configIssues(noKey)).toEqual(["bundle.url: must name the object's key: s3://BUCKET/KEY"]);
  });
});

describe("Secrets Manager credentials", () => {
  it("resolves a plain secret, a JSON secret's field named like the key, in the ARN's region", async () => {
    aws.secrets.set(DB_ARN, "orders-db-password");
    aws.secrets.set(RDS_ARN, JSON.stringify({ username: "hoopgate", password: "rds-managed-password", engine: "postgres" }));
    aws.secrets.set(KEY_ARN, "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n");
    const config = await loadConfig(await configFile(gatewayYaml(`
  orders-db: { target: postgres://hoopgate@db.internal/orders, password: "${DB_ARN}" }
  billing: { target: postgres://hoopgate@billing.internal/billing, password: "${RDS_ARN}" }
  bastion: { target: ssh://deploy@10.0.0.7, private_key: "${KEY_ARN}" }
`)));
    expect(config.connections["orders-db"]?.password).toBe("orders-db-password");
    expect(config.connections.billing?.password).toBe("rds-managed-password");
    expect(config.connections.bastion?.privateKey).toBe("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n");
    expect(aws.requests.map((r) => [r.service, r.region])).toEqual([
      ["secretsmanager", "us-east-2"], ["secretsmanager", "us-east-2"], ["secretsmanager", "us-east-2"],
    ]);
  });

  it("names the key of a missing, unusable or malformed secret and never prints a secret", async () => {
    aws.secrets.set(RDS_ARN, JSON.stringify({ username: "hoopgate", password: "rds-managed-password" }));
    aws.secrets.set(KEY_ARN, { binary: new Uint8Array([1, 2, 3]) });
    aws.secrets.set(DB_ARN, "");
    const path = await configFile(gatewayYaml(`
  gone: { target: postgres://hoopgate@db.internal/orders, password: "${MISSING_ARN}" }
  json: { target: ssh://deploy@10.0.0.8, private_key: "${RDS_ARN}" }
  binary: { target: ssh://deploy@10.0.0.7, private_key: "${KEY_ARN}" }
  empty: { target: postgres://hoopgate@db.internal/orders, password: "${DB_ARN}" }
  typo: { target: postgres://hoopgate@db.internal/orders, password: "arn:aws:secretsmanager:us-east-2:123456789012:secret:x:password::" }
`));
    const issues = await configIssues(path);
    expect(issues).toEqual([
      `connections.gone.password: cannot read AWS secret ${MISSING_ARN}: ResourceNotFoundException (HTTP 400): Secrets Manager can't find the specified secret.`,
      `connections.json.private_key: AWS secret ${RDS_ARN} is a JSON object without a non-empty string "private_key" field`,
      `connections.binary.private_key: AWS secret ${KEY_ARN} holds binary data; store the credential as a string`,
      `connections.empty.password: AWS secret ${DB_ARN} is empty`,
      "connections.typo.password: is not an AWS Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)",
    ]);
    expect(issues.join("\n")).not.toContain("rds-managed-password");
    expect(sdkLoaded("client-secrets-manager")).toBe(true);
  });

  it("resolves admin.token and store from secrets too", async () => {
    aws.secrets.set(DB_ARN, "an-admin-token-of-some-length");
    aws.secrets.set(RDS_ARN, JSON.stringify({ store: "postgres://hoopgate@store.internal/hoopgate" }));
    const config = await loadConfig(await configFile(`${gatewayYaml("  {}")}
admin: { token: "${DB_ARN}" }
store: "${RDS_ARN}"
`));
    expect(config.admin?.token).toBe("an-admin-token-of-some-length");
    expect(config.store).toEqual({ kind: "postgres", url: "postgres://hoopgate@store.internal/hoopgate" });
  });
});

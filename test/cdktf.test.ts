// The cdktf construct library (DESIGN.md §6), tested on the synthesized Terraform JSON.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DefaultTokenResolver, StringConcat, Testing, TerraformStack, Token, Tokenization } from "cdktf";
import { describe, expect, it } from "vitest";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role/index.js";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket/index.js";
import { HoopConnection, HoopGateway, HoopIdentityProvider, HoopPolicyBundle, escapeTerraformTemplate, type HoopConnectionTls } from "../cdktf/index.js";
import { terraformJson } from "../cdktf/escape.js";
import { HoopgateExampleStack } from "../examples/cdktf/stack.js";
import { selfSignedCertificate } from "../terraform/protocol/cert.js";

const ROOT = join(import.meta.dirname, "..");
const KEY_FILE = join(ROOT, "test/fixtures/cdktf-signing-key.pem");
const SIGNING_KEY = { privateKeyPem: readFileSync(KEY_FILE, "utf8"), kid: "test-1" };
const EXAMPLE_POLICIES = "examples/cdktf/policies";
const SNAPSHOT = join(ROOT, "test/__snapshots__/cdktf-example.tf.json");
/** a CA certificate as the orders database's TLS trust anchor (any valid PEM certificate will do) */
const CA_PEM = selfSignedCertificate().certPem;
const CA_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-ca-AbCdEf";
const GATEWAY_TLS = {
  certificateSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gateway-cert-AbCdEf",
  privateKeySecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gateway-key-AbCdEf",
};

type Json = Record<string, any>; // parsed Terraform JSON

/** A value with its tokens resolved as synth writes them (`${aws_s3_bucket.x.arn}`). */
function resolve<T>(stack: TerraformStack, value: T): T {
  return Tokenization.resolve(value, { scope: stack, resolver: new DefaultTokenResolver(new StringConcat()) }) as T;
}

function synthJson(stack: TerraformStack): Json {
  return JSON.parse(Testing.synth(stack)) as Json;
}

function resources(json: Json, type: string): Json[] {
  return Object.values((json.resource?.[type] ?? {}) as Record<string, Json>);
}

function only(json: Json, type: string): Json {
  const all = resources(json, type);
  expect(all, `exactly one ${type}`).toHaveLength(1);
  return all[0]!;
}

/** What Terraform makes of a template string without interpolations: `$${` → `${`, `%%{` → `%{`. */
function terraformUnescape(text: string): string {
  expect(text).not.toMatch(/(?<![$%])[$%]\{/);
  return text.replace(/([$%])\1\{/g, "$1{");
}

function exampleStack(): HoopgateExampleStack {
  return new HoopgateExampleStack(Testing.app(), "hoopgate", {
    root: ROOT,
    signingKeyPem: SIGNING_KEY.privateKeyPem,
    region: "eu-west-1",
    image: "ghcr.io/acme/hoopgate:0.1.0",
    runTests: false,
  });
}

interface Deployment {
  stack: TerraformStack;
  bundle: HoopPolicyBundle;
  connections: HoopConnection[];
  gateway: HoopGateway;
}

function deployment(options: { ports?: { postgres?: number; ssh?: number; api?: number }; ordersTls?: HoopConnectionTls } = {}): Deployment {
  const stack = new TerraformStack(Testing.app(), "test");
  const bundle = new HoopPolicyBundle(stack, "policies", { path: EXAMPLE_POLICIES, cwd: ROOT, signingKey: SIGNING_KEY });
  const github = HoopIdentityProvider.githubActions(stack, "github", { audience: "hoopgate" });
  const connections = [
    new HoopConnection(stack, "orders", {
      bundle, name: "orders-db", kind: "postgres", host: "db.internal", database: "orders", user: "hoopgate",
      tls: options.ordersTls ?? { ca: { source: "value", pem: CA_PEM } },
    }),
    new HoopConnection(stack, "bastion", {
      bundle, name: "bastion", kind: "ssh", host: "10.0.0.7", user: "deploy",
      credentials: { source: "existing", secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bastion-key-AbCdEf" },
    }),
  ];
  const gateway = new HoopGateway(stack, "gateway", {
    image: "hoopgate:test", bundle, identityProviders: [github], connections,
    vpcId: "vpc-123", subnetIds: ["subnet-a", "subnet-b"], allowedCidrs: ["10.0.0.0/8"], ports: options.ports, tls: GATEWAY_TLS,
  });
  return { stack, bundle, connections, gateway };
}

/** The default deployment and its synthesized JSON, built once: each synth compiles and signs. */
let shared: { deployment: Deployment; json: Json } | undefined;
function defaultDeployment(): { deployment: Deployment; json: Json } {
  shared ??= synthesized(deployment());
  return shared;
}

function synthesized(d: Deployment): { deployment: Deployment; json: Json } {
  return { deployment: d, json: synthJson(d.stack) };
}

describe("escapeTerraformTemplate", () => {
  it("escapes interpolations and directives and leaves everything else", () => {
    expect(escapeTerraformTemplate("a ${b} %{ if c }d%{ endif }")).toBe("a $${b} %%{ if c }d%%{ endif }");
    expect(escapeTerraformTemplate("100% of $HOME costs $5 {x}")).toBe("100% of $HOME costs $5 {x}");
    expect(escapeTerraformTemplate("already $${x}")).toBe("already $$${x}");
    for (const text of ["${a}", "%{a}", "$${a}", "$$${a}", "x$", "%", "{${%{"]) {
      expect(terraformUnescape(escapeTerraformTemplate(text))).toBe(text);
    }
  });

  it("escapes literal keys and values in embedded JSON but keeps tokens as references", () => {
    const stack = new TerraformStack(Testing.app(), "escape");
    const token = Token.asString({ resolve: () => "${aws_s3_bucket.b.arn}" });
    const json = terraformJson({ "k${x}": "v%{y}", list: ["${z}", token] });
    expect(resolve(stack, json)).toBe('{"k$${x}":"v%%{y}","list":["$${z}","${aws_s3_bucket.b.arn}"]}');
  });
});

describe("provider imports", () => {
  it("use deep paths only, never the @cdktf/provider-aws package root", () => {
    const files = ["cdktf", "examples/cdktf"].flatMap((dir) =>
      readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts"))
        .map((f) => join(dir, f)),
    );
    expect(files.length).toBeGreaterThanOrEqual(10);
    const root = /["']@cdktf\/provider-aws(\/lib)?(\/index(\.js)?)?\/?["']/;
    const offenders = files.filter((f) => root.test(readFileSync(join(ROOT, f), "utf8")));
    expect(offenders, "files importing the provider package root").toEqual([]);
    const deep = files.filter((f) => /@cdktf\/provider-aws\/lib\/[a-z0-9-]+\/index\.js/.test(readFileSync(join(ROOT, f), "utf8")));
    expect(deep.length).toBeGreaterThan(0);
  });
});

describe("HoopPolicyBundle", () => {
  it("uploads the bundle under a key that carries the sha256 of its bytes", () => {
    const { deployment: { stack, bundle }, json } = defaultDeployment();
    const object = only(json, "aws_s3_object");
    const body = terraformUnescape(object.content as string);
    const sha = createHash("sha256").update(body).digest("hex");
    expect(object.key).toBe(`bundles/${sha}.jws`);
    expect(bundle.sha256).toBe(sha);
    expect(bundle.objectKey).toBe(object.key);
    expect(object.bucket).toBe(resolve(stack, bundle.bucket.bucket));
    expect(body.split(".")).toHaveLength(3); // a compact JWS
  });

  it("keeps `${` and `%{` in policy text literal in the uploaded bundle", () => {
    const stack = new TerraformStack(Testing.app(), "template");
    const bundle = new HoopPolicyBundle(stack, "policies", { path: "test/fixtures/cdktf-template", cwd: ROOT });
    const object = only(synthJson(stack), "aws_s3_object");
    expect(object.content).toContain("see $${runbook} and %%{ if x }");
    const body = terraformUnescape(object.content as string);
    expect(JSON.parse(body)).toEqual(bundle.document);
    expect(object.key).toBe(`bundles/${createHash("sha256").update(body).digest("hex")}.json`);
  });

  it("fails synth with the compiler's file:line:col diagnostics on a broken policy", () => {
    const stack = new TerraformStack(Testing.app(), "broken");
    expect(() => new HoopPolicyBundle(stack, "policies", { path: "test/fixtures/cdktf-broken", cwd: ROOT })).toThrow(
      /test\/fixtures\/cdktf-broken\/broken\.hoop:12:18: error\[HG\d+\]: unknown connection `orders-dv`[\s\S]*did you mean `orders-db`/,
    );
  });

  it("uploads to a given bucket and grants read on exactly its object", () => {
    const stack = new TerraformStack(Testing.app(), "grant");
    const bucket = new S3Bucket(stack, "mine", { bucket: "acme-policies" });
    const bundle = new HoopPolicyBundle(stack, "policies", { path: EXAMPLE_POLICIES, cwd: ROOT, bucket, keyPrefix: "hoop/" });
    const role = new IamRole(stack, "reader", { assumeRolePolicy: "{}" });
    bundle.grantRead(role);
    const json = synthJson(stack);
    expect(resources(json, "aws_s3_bucket")).toHaveLength(1);
    expect(only(json, "aws_s3_object").key).toMatch(/^hoop\/[0-9a-f]{64}\.json$/);
    const policy = JSON.parse(only(json, "aws_iam_role_policy").policy as string);
    expect(policy.Statement).toEqual([
      { Effect: "Allow", Action: ["s3:GetObject"], Resource: [resolve(stack, bundle.objectArn)] },
    ]);
  });
});

describe("HoopConnection", () => {
  it("fails synth when the name is not a connection declared in the bundle", () => {
    const stack = new TerraformStack(Testing.app(), "conn");
    const bundle = new HoopPolicyBundle(stack, "policies", { path: EXAMPLE_POLICIES, cwd: ROOT });
    expect(
      () => new HoopConnection(stack, "c", { bundle, name: "orders", kind: "postgres", host: "db", database: "orders", user: "u" }),
    ).toThrow(/"orders" is not a connection declared in the policies of conn\/policies \(declared: bastion, orders-db\); did you mean "orders-db"\?/);
    expect(
      () => new HoopConnection(stack, "d", { bundle, name: "bastion", kind: "postgres", host: "db", database: "x", user: "u" }),
    ).toThrow(/connection "bastion" is declared as kind ssh in the policies, not postgres/);
    expect(() => new HoopConnection(stack, "e", { bundle, name: "bastion", kind: "ssh", host: "h", user: "u" })).toThrow(
      /an ssh connection needs credentials/,
    );
  });

  it("keeps a generated password in a new secret and puts only its ARN in the config", () => {
    const { deployment: { stack, connections, gateway }, json } = defaultDeployment();
    const version = only(json, "aws_secretsmanager_secret_version");
    expect(version.secret_string).toMatch(/^\$\{data\.aws_secretsmanager_random_password\..+\.random_password\}$/);
    expect(version.lifecycle).toEqual({ ignore_changes: ["secret_string"] });
    expect(resolve(stack, gateway.config.connections)).toEqual({
      "orders-db": {
        target: "postgres://hoopgate@db.internal:5432/orders",
        password: resolve(stack, connections[0]!.secretArn),
        tls: { mode: "verify-full", ca_file: "env:HOOPGATE_TLS_CA_ORDERS_DB" },
      },
      bastion: { target: "ssh://deploy@10.0.0.7:22", private_key: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bastion-key-AbCdEf" },
    });
  });
});

describe("HoopConnection tls", () => {
  const setup = () => {
    const stack = new TerraformStack(Testing.app(), "tls");
    const bundle = new HoopPolicyBundle(stack, "policies", { path: EXAMPLE_POLICIES, cwd: ROOT });
    const orders = (id: string, tls?: HoopConnectionTls) =>
      new HoopConnection(stack, id, { bundle, name: "orders-db", kind: "postgres", host: "orders.cluster-abc.eu-west-1.rds.amazonaws.com", database: "orders", user: "u", tls });
    return { stack, bundle, orders };
  };

  it("fails synth, naming the connection, when a postgres target has neither a CA nor an explicit mode", () => {
    const { orders } = setup();
    const message = /HoopConnection tls\/a: connection "orders-db" needs tls: the CA its server's certificate chains to \(tls\.ca; for RDS and Aurora the region's bundle from https:\/\/truststore\.pki\.rds\.amazonaws\.com\) or an explicit tls\.mode\. Without either the gateway verifies the server against the public roots only/;
    expect(() => orders("a")).toThrow(message);
    expect(() => orders("a2", {})).toThrow(/connection "orders-db" needs tls/);
  });

  it("refuses what the gateway would refuse: modes and CAs that do not go together, a CA that is not PEM", () => {
    const { orders } = setup();
    const pem = { source: "value", pem: CA_PEM } as const;
    expect(() => orders("b", { mode: "verify-ca" })).toThrow(/tls\.mode verify-ca needs tls\.ca: against the public roots any certificate they issued would pass/);
    expect(() => orders("c", { mode: "require", ca: pem })).toThrow(/tls\.ca has no effect with tls\.mode require/);
    expect(() => orders("d", { mode: "disable", ca: { source: "existing", secretArn: CA_SECRET_ARN } })).toThrow(/tls\.ca has no effect with tls\.mode disable/);
    expect(() => orders("e", { ca: { source: "value", pem: "not a certificate" } })).toThrow(/HoopConnection tls\/e: tls\.ca\.pem holds no PEM certificate/);
    expect(() => orders("f", { ca: { source: "value", pem: Token.asString({ resolve: () => "${var.ca}" }) } })).toThrow(/tls\.ca\.pem must be text known at synth/);
    expect(() => orders("h", { ca: { source: "existing", secretArn: "orders-ca" } })).toThrow(/tls\.ca\.secretArn must be a Secrets Manager secret ARN, not "orders-ca"/);
    expect(() => orders("g", { mode: "prefer" as never })).toThrow(/tls\.mode must be one of disable, require, verify-ca, verify-full, not "prefer"/);
    const { stack, bundle } = setup();
    expect(() => new HoopConnection(stack, "ssh", {
      bundle, name: "bastion", kind: "ssh", host: "h", user: "u", credentials: { source: "existing", secretArn: CA_SECRET_ARN }, tls: { mode: "verify-full" },
    })).toThrow(/HoopConnection tls\/ssh: tls applies to postgres connections only/);
  });

  it("takes an explicit mode without a CA, and warns when the mode does not verify the server", () => {
    const { stack, orders } = setup();
    expect(orders("public", { mode: "verify-full" }).configEntry()).toMatchObject({ tls: { mode: "verify-full" } });
    const plain = orders("plain", { mode: "disable" });
    expect(plain.configEntry()).toMatchObject({ tls: { mode: "disable" } });
    expect(plain.environment).toEqual([]);
    orders("unverified", { mode: "require" });
    const warnings = stack.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === "@cdktf/warn").map((m) => m.data as string);
    expect(warnings).toEqual([
      "connection orders-db: tls mode disable sends the password and every row unencrypted",
      "connection orders-db: tls mode require does not verify the server: an impostor on the path gets the password",
    ]);
  });

  it("hands a CA given as text to the container in its environment, with no new grant", () => {
    const { deployment: { stack, connections, gateway }, json } = defaultDeployment();
    expect(connections[0]!.environment).toEqual([{ name: "HOOPGATE_TLS_CA_ORDERS_DB", value: CA_PEM }]);
    expect(connections[0]!.caSecretArn).toBeUndefined();
    const container = JSON.parse(only(json, "aws_ecs_task_definition").container_definitions as string)[0] as Json;
    expect(container.environment.find((e: Json) => e.name === "HOOPGATE_TLS_CA_ORDERS_DB").value).toBe(CA_PEM);
    expect(resolve(stack, gateway.config.connections["orders-db"])).toMatchObject({ tls: { ca_file: "env:HOOPGATE_TLS_CA_ORDERS_DB" } });
  });

  it("reads a CA from an existing secret, which the task role (and grantRead) may read besides the credential", () => {
    const { deployment: { stack, connections, gateway }, json } = synthesized(deployment({ ordersTls: { mode: "verify-ca", ca: { source: "existing", secretArn: CA_SECRET_ARN } } }));
    const orders = connections[0]!;
    expect(resolve(stack, gateway.config.connections["orders-db"])).toEqual({
      target: "postgres://hoopgate@db.internal:5432/orders", password: resolve(stack, orders.secretArn), tls: { mode: "verify-ca", ca_file: CA_SECRET_ARN },
    });
    const taskRole = resolve(stack, gateway.taskRole.name);
    const statements = JSON.parse(resources(json, "aws_iam_role_policy").find((p) => p.role === taskRole)!.policy as string).Statement as Json[];
    expect(statements.filter((st) => JSON.stringify(st.Resource).includes(CA_SECRET_ARN))).toEqual([
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [resolve(stack, orders.secretArn), CA_SECRET_ARN] },
    ]);
    const container = JSON.parse(only(json, "aws_ecs_task_definition").container_definitions as string)[0] as Json;
    expect(container.environment.map((e: Json) => e.name)).toEqual(["HOOPGATE_CONFIG", "AWS_REGION"]);

    const role = new IamRole(stack, "other", { assumeRolePolicy: "{}" });
    orders.grantRead(role);
    const grant = resources(synthJson(stack), "aws_iam_role_policy").find((p) => p.role === resolve(stack, role.name))!;
    expect(JSON.parse(grant.policy as string).Statement).toEqual([
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [resolve(stack, orders.secretArn), CA_SECRET_ARN] },
    ]);
  });

  it("refuses two connections whose CAs would need the same environment variable", () => {
    const stack = new TerraformStack(Testing.app(), "names");
    const bundle = new HoopPolicyBundle(stack, "policies", { path: "test/fixtures/cdktf-tls-names", cwd: ROOT, signingKey: SIGNING_KEY });
    const tls = { ca: { source: "value", pem: CA_PEM } } as const;
    const connections = ["orders-db", "orders_db"].map((name) => new HoopConnection(stack, name, { bundle, name, kind: "postgres", host: "db", database: "d", user: "u", tls }));
    const github = HoopIdentityProvider.githubActions(stack, "github");
    expect(() => new HoopGateway(stack, "g", { image: "i", bundle, identityProviders: [github], connections, vpcId: "v", subnetIds: ["s"], allowedCidrs: ["10.0.0.0/8"], tls: GATEWAY_TLS })).toThrow(
      /connections orders-db and orders_db both need the environment variable HOOPGATE_TLS_CA_ORDERS_DB; rename one/,
    );
  });
});

describe("HoopGateway", () => {
  it("gives the task role exactly GetObject on the bundle object and GetSecretValue on the connections' secrets", () => {
    const { deployment: { stack, bundle, connections, gateway }, json } = defaultDeployment();
    const taskRole = resolve(stack, gateway.taskRole.name);
    const policies = resources(json, "aws_iam_role_policy").filter((p) => p.role === taskRole);
    expect(policies).toHaveLength(1);
    expect(resources(json, "aws_iam_role_policy_attachment").filter((a) => a.role === taskRole)).toEqual([]);
    const statements = JSON.parse(policies[0]!.policy as string).Statement as Json[];
    expect(statements).toEqual([
      { Effect: "Allow", Action: ["s3:GetObject"], Resource: [resolve(stack, bundle.objectArn)] },
      ...connections.map((c) => ({ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [resolve(stack, c.secretArn)] })),
    ]);
    expect(resolve(stack, bundle.objectArn)).toMatch(/^\$\{aws_s3_bucket\.[^}]+\.arn\}\/bundles\/[0-9a-f]{64}\.jws$/);
    expect(JSON.stringify(statements)).not.toContain("*");
  });

  it("listens on the configured ports on the load balancer, the target groups, the container and the config", () => {
    for (const [ports, expected] of [
      [undefined, { postgres: 5432, ssh: 2222, api: 8080 }],
      [{ postgres: 6432, api: 8443 }, { postgres: 6432, ssh: 2222, api: 8443 }],
    ] as const) {
      const { deployment: { stack, gateway }, json } = ports === undefined ? defaultDeployment() : synthesized(deployment({ ports }));
      const lb = only(json, "aws_lb");
      expect(lb.load_balancer_type).toBe("network");
      expect(lb.internal).toBe(true);
      const groups = new Map(
        Object.entries(json.resource.aws_lb_target_group as Record<string, Json>).map(([id, tg]) => [`\${aws_lb_target_group.${id}.arn}`, tg]),
      );
      const listeners = resources(json, "aws_lb_listener");
      expect(listeners.map((l) => l.port).sort()).toEqual(Object.values(expected).sort());
      for (const l of listeners) {
        expect(l.protocol).toBe("TCP");
        const tg = groups.get(l.default_action[0].target_group_arn as string);
        expect(tg, "listener forwards to a target group of this stack").toBeDefined();
        expect(tg!.port).toBe(l.port);
        expect(tg!.target_type).toBe("ip");
      }
      const container = JSON.parse(only(json, "aws_ecs_task_definition").container_definitions as string)[0] as Json;
      expect(container.portMappings.map((m: Json) => m.containerPort).sort()).toEqual(Object.values(expected).sort());
      const config = JSON.parse(container.environment.find((e: Json) => e.name === "HOOPGATE_CONFIG").value as string) as Json;
      expect(config.listen).toEqual({
        postgres: `0.0.0.0:${expected.postgres}`, ssh: `0.0.0.0:${expected.ssh}`, api: `0.0.0.0:${expected.api}`,
      });
      expect(resolve(stack, gateway.config.listen)).toEqual(config.listen);
      const service = only(json, "aws_ecs_service");
      expect(service.load_balancer.map((b: Json) => b.container_port).sort()).toEqual(Object.values(expected).sort());
      const ingress = resources(json, "aws_vpc_security_group_ingress_rule").filter((r) => r.cidr_ipv4 === "10.0.0.0/8");
      expect(ingress.map((r) => r.from_port).sort()).toEqual(Object.values(expected).sort());
    }
  });

  it("passes the generated config with the bundle, its key, the issuer and the connections", () => {
    const { deployment: { stack, bundle }, json } = defaultDeployment();
    const container = JSON.parse(only(json, "aws_ecs_task_definition").container_definitions as string)[0] as Json;
    expect(container.environment.map((e: Json) => e.name)).toEqual(["HOOPGATE_CONFIG", "AWS_REGION", "HOOPGATE_TLS_CA_ORDERS_DB"]);
    expect(container.environment[1].value).toMatch(/^\$\{data\.aws_region\.[^}]+\.region\}$/);
    const config = JSON.parse(container.environment[0].value as string) as Json;
    expect(config.bundle.url).toBe(resolve(stack, bundle.s3Url));
    expect(config.bundle.keys).toEqual([{ kid: "test-1", jwk: { kty: "OKP", crv: "Ed25519", x: expect.any(String) } }]);
    expect(config.issuers).toEqual([
      { issuer: "https://token.actions.githubusercontent.com", audience: ["hoopgate"], jwks_url: "https://token.actions.githubusercontent.com/.well-known/jwks" },
    ]);
    expect(Object.keys(config.connections)).toEqual(["orders-db", "bastion"]);
    expect(container.command[0]).toContain("exec hoopgate serve --config /tmp/hoopgate/gateway.json");
  });

  it("keeps audit in a versioned bucket with object lock on", () => {
    const { deployment: { stack, gateway }, json } = defaultDeployment();
    const auditId = resolve(stack, gateway.auditBucket.id);
    const audit = resources(json, "aws_s3_bucket").find((b) => b.bucket_prefix === "hoopgate-audit-");
    expect(audit?.object_lock_enabled).toBe(true);
    expect(only(json, "aws_s3_bucket_versioning")).toMatchObject({ bucket: auditId, versioning_configuration: { status: "Enabled" } });
    expect(only(json, "aws_s3_bucket_object_lock_configuration")).toMatchObject({
      bucket: auditId,
      rule: { default_retention: { mode: "GOVERNANCE", days: 365 } },
    });
  });

  it("refuses an unsigned bundle and replicas without a shared store", () => {
    const stack = new TerraformStack(Testing.app(), "unsigned");
    const bundle = new HoopPolicyBundle(stack, "policies", { path: EXAMPLE_POLICIES, cwd: ROOT });
    const github = HoopIdentityProvider.githubActions(stack, "github");
    const base = { image: "i", bundle, identityProviders: [github], connections: [], vpcId: "v", subnetIds: ["s"], allowedCidrs: ["10.0.0.0/8"], tls: GATEWAY_TLS };
    expect(() => new HoopGateway(stack, "g1", base)).toThrow(/is not signed; give HoopPolicyBundle a signingKey/);
    const signed = new HoopPolicyBundle(stack, "signed", { path: EXAMPLE_POLICIES, cwd: ROOT, signingKey: SIGNING_KEY });
    expect(() => new HoopGateway(stack, "g2", { ...base, bundle: signed, desiredCount: 2 })).toThrow(/2 replicas need a shared store/);
  });

  it("requires tls, serves the API over HTTPS and checks its health over HTTPS /healthz", () => {
    const stack = new TerraformStack(Testing.app(), "no-tls");
    const signed = new HoopPolicyBundle(stack, "signed", { path: EXAMPLE_POLICIES, cwd: ROOT, signingKey: SIGNING_KEY });
    const github = HoopIdentityProvider.githubActions(stack, "github");
    const props = { image: "i", bundle: signed, identityProviders: [github], connections: [], vpcId: "v", subnetIds: ["s"], allowedCidrs: ["10.0.0.0/8"] };
    expect(() => new HoopGateway(stack, "g", props as never)).toThrow(/HoopGateway no-tls\/g: tls is required: the load balancer passes TCP through/);

    const { deployment: { stack: deployed, gateway }, json } = defaultDeployment();
    const container = JSON.parse(only(json, "aws_ecs_task_definition").container_definitions as string)[0] as Json;
    const config = JSON.parse(container.environment.find((e: Json) => e.name === "HOOPGATE_CONFIG").value as string) as Json;
    expect(config.tls).toEqual({ cert_file: "/tmp/hoopgate/tls.crt", key_file: "/tmp/hoopgate/tls.key" });
    expect(config.listen.api_plain_http).toBeUndefined();
    expect(container.secrets).toEqual([
      { name: "HOOPGATE_TLS_CERT", valueFrom: GATEWAY_TLS.certificateSecretArn },
      { name: "HOOPGATE_TLS_KEY", valueFrom: GATEWAY_TLS.privateKeySecretArn },
    ]);
    const checks = new Map(resources(json, "aws_lb_target_group").map((tg) => [tg.port as number, tg.health_check as Json]));
    expect(checks.get(8080)).toEqual({ protocol: "HTTPS", path: "/healthz", matcher: "200" });
    expect(checks.get(5432)).toEqual({ protocol: "TCP" });
    expect(resolve(deployed, gateway.apiUrl)).toMatch(/^https:\/\/\$\{aws_lb\.[^}]+\.dns_name\}:8080$/);
  });
});

describe("the example app", () => {
  it("synthesizes the same JSON on every run, matching the committed snapshot", async () => {
    const first = Testing.synth(exampleStack());
    const second = Testing.synth(exampleStack());
    expect(second).toBe(first);
    await expect(first).toMatchFileSnapshot(SNAPSHOT);
  });

  it("runs with node from the build and writes cdktf.out, running the policy tests", () => {
    const main = join(ROOT, "dist/examples/cdktf/main.js");
    expect(existsSync(main), `${main} is missing: run \`npm run build\` first`).toBe(true);
    const out = mkdtempSync(join(tmpdir(), "hoopgate-cdktf-"));
    try {
      const run = spawnSync(process.execPath, [main], {
        cwd: out,
        encoding: "utf8",
        env: { ...process.env, HOOPGATE_SIGNING_KEY_FILE: KEY_FILE, AWS_REGION: "eu-west-1", HOOPGATE_IMAGE: "ghcr.io/acme/hoopgate:0.1.0" },
      });
      expect(run.status, run.stderr).toBe(0);
      // the app adds cdktf metadata (`//` keys) and a local backend under its working directory
      const written = JSON.parse(readFileSync(join(out, "cdktf.out/stacks/hoopgate/cdk.tf.json"), "utf8"), (key, value) =>
        key === "//" ? undefined : value,
      ) as Json;
      delete written.terraform.backend;
      expect(written).toEqual(JSON.parse(readFileSync(SNAPSHOT, "utf8")));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("fails synth on a failing policy test with its file:line:col", () => {
    const stack = new TerraformStack(Testing.app(), "failing");
    expect(() => new HoopPolicyBundle(stack, "policies", { path: "test/fixtures/cdktf-failing-test", cwd: ROOT, runTests: true })).toThrow(
      /policy tests failed in test\/fixtures\/cdktf-failing-test \(1 of 2\):\ntest\/fixtures\/cdktf-failing-test\/policy\.hoop:21:3: test ci-may-not-drop: expected allow/,
    );
  });
});

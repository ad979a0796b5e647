// The cdktf bindings of terraform-provider-hoopgate synthesize what the provider's schema
// expects: snake_case attributes, the provider's source and version, references between
// resources, and secrets left to terraform functions instead of the JSON.

import { Fn, Testing, TerraformOutput, TerraformStack } from "cdktf";
import { describe, expect, it } from "vitest";
import {
  DataHoopgatePolicyBundle,
  HoopgateApprovalWebhook,
  HoopgateBundle,
  HoopgateConnection,
  HoopgateProvider,
  HoopgateTokenIssuer,
} from "../cdktf/provider/index.js";

describe("cdktf bindings for the hoopgate provider", () => {
  it("synthesizes the provider, the data source and every resource", () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, "s");
    new HoopgateProvider(stack, "hoopgate", { endpoint: "http://127.0.0.1:18080" });
    const policies = new DataHoopgatePolicyBundle(stack, "policies", { path: "/p", runTests: true, signingKeyPem: Fn.file("/k.pem"), signingKid: "k1" });
    new HoopgateBundle(stack, "bundle", { bundle: policies.bundle });
    new HoopgateTokenIssuer(stack, "issuer", { issuer: "https://i.example", audience: ["hoopgate"], jwksUrl: "https://i.example/jwks" });
    const db = new HoopgateConnection(stack, "db", {
      name: "orders-db", target: "postgres://app@db:5432/orders", password: "${var.pw}",
      tlsMode: "verify-ca", tlsCa: Fn.file("/ca.pem"), tlsCert: Fn.file("/client.crt"), tlsKey: "${var.client_key}",
    });
    new TerraformOutput(stack, "mode", { value: db.tlsMode });
    new HoopgateApprovalWebhook(stack, "hook", { url: "https://hooks.example/x" });
    const json = JSON.parse(Testing.synth(stack)) as Record<string, Record<string, Record<string, Record<string, unknown>>>>;

    expect(json.terraform!.required_providers!.hoopgate).toEqual({ source: "hoopgate/hoopgate", version: "0.1.0" });
    expect(json.provider!.hoopgate).toEqual([{ endpoint: "http://127.0.0.1:18080" }]);
    expect(json.data!.hoopgate_policy_bundle!.policies).toMatchObject({ path: "/p", run_tests: true, signing_key_pem: '${file("/k.pem")}', signing_kid: "k1" });
    expect(json.resource!.hoopgate_bundle!.bundle).toMatchObject({ bundle: "${data.hoopgate_policy_bundle.policies.bundle}" });
    expect(json.resource!.hoopgate_token_issuer!.issuer).toMatchObject({ issuer: "https://i.example", audience: ["hoopgate"], jwks_url: "https://i.example/jwks" });
    expect(json.resource!.hoopgate_connection!.db).toEqual({
      name: "orders-db", target: "postgres://app@db:5432/orders", password: "${var.pw}",
      tls_mode: "verify-ca", tls_ca: '${file("/ca.pem")}', tls_cert: '${file("/client.crt")}', tls_key: "${var.client_key}",
    });
    expect(json.output!.mode).toEqual({ value: "${hoopgate_connection.db.tls_mode}" });
    expect(json.resource!.hoopgate_approval_webhook!.hook).toMatchObject({ url: "https://hooks.example/x" });
  });
});

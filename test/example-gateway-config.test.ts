// examples/gateway.yaml is documentation users copy: it must stay a config loadConfig accepts.

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../runtime/config/index.js";

const FILE = join(import.meta.dirname, "..", "examples", "gateway.yaml");
const ENV = { ORDERS_DB_PASSWORD: "orders-secret", BASTION_SSH_KEY: "-----BEGIN OPENSSH PRIVATE KEY-----\nexample\n-----END OPENSSH PRIVATE KEY-----" };

describe("examples/gateway.yaml", () => {
  it("loads, with its secrets resolved from the environment", async () => {
    const config = await loadConfig(FILE, ENV);
    expect(config.listen.postgres).toEqual({ host: "127.0.0.1", port: 15432 });
    expect(config.bundle?.location).toEqual({ kind: "file", path: join(import.meta.dirname, "..", "examples", "bundle.jws") });
    expect(config.bundle?.keys.map((k) => k.kid)).toEqual(["k1"]);
    expect(config.bundle?.reloadIntervalMs).toBe(30_000);
    expect(config.issuers).toEqual([
      { issuer: "https://token.actions.githubusercontent.com", audience: ["hoopgate"], jwks: { url: "https://token.actions.githubusercontent.com/.well-known/jwks" } },
    ]);
    expect(config.connections["orders-db"]).toEqual({
      name: "orders-db",
      target: { kind: "postgres", host: "db.internal", port: 5432, user: "app", database: "orders" },
      password: "orders-secret",
    });
    expect(config.connections.bastion?.privateKey).toBe(ENV.BASTION_SSH_KEY);
    expect(config.auth.allowCleartextOnLoopback).toBe(false);
    expect(config.audit?.file).toBe(join(import.meta.dirname, "..", "examples", ".hoopgate", "audit.jsonl"));
    expect(config.limits).toEqual({ maxStatementBytes: 1024 * 1024, startupTimeoutMs: 15_000, maxConnections: 1000 });
  });

  it("names the missing secret when the environment lacks it", async () => {
    const error = await loadConfig(FILE, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      { path: "connections.orders-db.password", message: "environment variable ORDERS_DB_PASSWORD is not set" },
      { path: "connections.bastion.private_key", message: "environment variable BASTION_SSH_KEY is not set" },
    ]);
  });
});

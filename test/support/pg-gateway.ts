// Starts a real gateway for PostgreSQL tests: a local token issuer, a policy compiled from
// .hoop text, the real engine and masking, and the proxy in front of the machine's PostgreSQL.

import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { compileSources } from "../../compiler/index.js";
import { loadEngine } from "../../runtime/engine/index.js";
import { createTokenVerifier, startDevIssuer, type DevIssuer } from "../../runtime/identity/index.js";
import { createLogger } from "../../runtime/log.js";
import type { PgTarget, ProxyAudit, ProxyContext, ProxyTls, StatementAudit } from "../../runtime/postgres/context.js";
import { createRowMasking } from "../../runtime/postgres/masks/masking-port.js";
import { startPostgresProxy, type PostgresProxy } from "../../runtime/postgres/server.js";
import { RawSession } from "./pg-raw-session.js";

export const PG = { host: "127.0.0.1", port: 5432, user: "postgres" };

/** Creates (or recreates) a scratch database; fails loudly when PostgreSQL is not there. */
export async function freshDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ ...PG, database: "postgres" });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`these tests need PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres: ${String(err)}`);
  }
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
}

/** Drops a scratch database made by `freshDatabase`, closing its sessions. */
export async function dropDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ ...PG, database: "postgres" });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}

export interface Gateway {
  proxy: PostgresProxy;
  issuer: DevIssuer;
  statements: StatementAudit[];
  token(role: string, ttl?: number | string): Promise<string>;
  /** compiles `policy` and puts it in force, as a bundle reload does (open sessions re-check their access) */
  replacePolicy(policy: (issuer: string) => string): Promise<void>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  policy: (issuer: string) => string;
  targets: Record<string, PgTarget>;
  tls?: ProxyTls;
  allowCleartextOnLoopback?: boolean;
  /** the issuer's clock skew; default the verifier's (30 s) */
  clockSkewSeconds?: number;
  /** the listener's limits.startup_timeout and limits.max_connections; default the proxy's */
  startupTimeoutMs?: number;
  maxConnections?: number;
}

async function compile(policy: (issuer: string) => string, issuer: DevIssuer) {
  const compiled = compileSources([{ path: "test.hoop", text: policy(issuer.issuer) }]);
  if (compiled.bundle === undefined) {
    throw new Error(`test policy does not compile: ${compiled.diagnostics.map((d) => d.message).join("; ")}`);
  }
  return loadEngine(compiled.bundle);
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const issuer = await startDevIssuer();
  let engine = await compile(options.policy, issuer);
  const listeners = new Set<() => void>();
  const verifier = createTokenVerifier([{
    issuer: issuer.issuer, audience: [issuer.audience], jwks: { url: issuer.jwksUrl },
    ...(options.clockSkewSeconds !== undefined && { clockSkewSeconds: options.clockSkewSeconds }),
  }]);
  const statements: StatementAudit[] = [];
  const audit: ProxyAudit = { sessionStarted: () => undefined, statement: (s) => statements.push(s), sessionEnded: () => undefined };
  const context: ProxyContext = {
    openSession: (identity, connection) => engine.openSession(identity, connection),
    policyChanges: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    verifyToken: (token) => verifier.verify(token),
    target: (name) => (Object.hasOwn(options.targets, name) ? options.targets[name] : undefined),
    masking: createRowMasking(Buffer.alloc(32, 7)),
    audit,
    allowCleartextOnLoopback: options.allowCleartextOnLoopback ?? true,
    logger: createLogger({ level: "silent" }),
    ...(options.tls ? { tls: options.tls } : {}),
  };
  const proxy = await startPostgresProxy({
    context,
    ...(options.startupTimeoutMs !== undefined && { startupTimeoutMs: options.startupTimeoutMs }),
    ...(options.maxConnections !== undefined && { maxConnections: options.maxConnections }),
  });
  return {
    proxy,
    issuer,
    statements,
    token: (role, ttl) => issuer.issue({ sub: `${role}-1`, claims: { role }, ...(ttl !== undefined ? { ttl } : {}) }),
    async replacePolicy(policy) {
      engine = await compile(policy, issuer);
      for (const listener of listeners) listener();
    },
    async close() {
      await proxy.close();
      await issuer.close();
    },
  };
}

/** A test file's gateway in front of its own scratch database, and a direct client to that database. */
export interface GatewayFixture {
  readonly gw: Gateway;
  readonly direct: pg.Client;
  /** a raw protocol session through the gateway as the identity with claim role = `role`, on `connection` */
  session(role: string): Promise<RawSession>;
}

/**
 * Registers the file's beforeAll (a fresh database `db`, a direct client, a gateway serving it as
 * `connection` under `policy`) and afterAll (all stopped, the database dropped).
 */
export function gatewayFixture(db: string, connection: string, policy: (issuer: string) => string): GatewayFixture {
  let gw: Gateway | undefined;
  let direct: pg.Client | undefined;
  beforeAll(async () => {
    await freshDatabase(db);
    direct = new pg.Client({ ...PG, database: db });
    await direct.connect();
    gw = await startGateway({ policy, targets: { [connection]: { ...PG, database: db } } });
  });
  afterAll(async () => {
    await gw?.close();
    await direct?.end();
    await dropDatabase(db);
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the gateway fixture is used before its beforeAll ran");
    return value;
  };
  return {
    get gw() {
      return started(gw);
    },
    get direct() {
      return started(direct);
    },
    async session(role) {
      const g = started(gw);
      return RawSession.open({ host: "127.0.0.1", port: g.proxy.port, user: role, database: connection, password: await g.token(role) });
    },
  };
}

// `hoopgate demo`: an embedded PostgreSQL with fake PII, a local token issuer and the gateway
// enforcing a signed bundle, all on loopback. The gateway is started from a real config file
// written to the state directory, through the same loadConfig/startGateway path as `serve`.

import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { JWK } from "jose";
import { stringify } from "yaml";
import { loadConfig } from "../config/index.js";
import { startGateway } from "../gateway/index.js";
import { generateDevKey, loadDevKey, saveDevKey, signDevToken, startDevIssuer, DEV_KEY_FILE, type DevKey } from "../identity/index.js";
import type { Logger } from "../log.js";
import { demoBanner } from "./banner.js";
import { saveDevIssuerIdentity } from "./dev-identity.js";
import { startEmbeddedPostgres } from "./embedded-postgres.js";
import { DEMO_AUDIENCE, DEMO_CONNECTION, DEMO_IDENTITY, DEMO_ISSUER, DEMO_STATEMENTS } from "./scenario.js";
import { seedDemoDatabase } from "./seed.js";
import { tryStatements } from "./try-statements.js";

export { DEMO_POLICY_DIR } from "./scenario.js";

export interface DemoOptions {
  /** the compiled policy, signed (compact JWS) */
  bundle: string;
  /** the public key the bundle verifies against */
  bundleKey: { kid: string; jwk: JWK };
  /** where the config, keys, bundle and audit log go */
  stateDir: string;
  logger?: Logger;
}

export interface Demo {
  banner: string;
  psql: string;
  close(): Promise<void>;
}

const TOKEN_TTL = "8h";

export async function startDemo(options: DemoOptions): Promise<Demo> {
  const stateDir = resolve(options.stateDir);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const cleanups: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const database = await startEmbeddedPostgres();
    cleanups.push(() => database.close());
    await seedDemoDatabase(database.db);

    const key = await demoKey(stateDir);
    const issuer = await startDevIssuer({ key, audience: DEMO_AUDIENCE });
    cleanups.push(() => issuer.close());
    await saveDevIssuerIdentity(stateDir, { issuer: DEMO_ISSUER, audience: DEMO_AUDIENCE });

    const files = {
      bundle: join(stateDir, "demo-bundle.jws"),
      bundleKey: join(stateDir, "demo-bundle-key.jwk"),
      config: join(stateDir, "demo-gateway.yaml"),
      audit: join(stateDir, "audit.jsonl"),
    };
    await writeFile(files.bundle, `${options.bundle}\n`);
    await writeFile(files.bundleKey, `${JSON.stringify(options.bundleKey.jwk)}\n`);
    await writeFile(files.config, demoConfig({
      bundleKid: options.bundleKey.kid,
      jwksUrl: issuer.jwksUrl,
      target: `postgres://${database.user}@${database.host}:${database.port}/${database.database}`,
      ...files,
    }));
    const config = await loadConfig(files.config);
    const gateway = await startGateway(config, options.logger === undefined ? {} : { logger: options.logger });
    cleanups.push(() => gateway.close());
    if (gateway.bundle?.current() === undefined) {
      throw new Error(`the demo bundle did not load: ${gateway.bundle?.status().lastError ?? "no bundle source"}`);
    }
    const port = gateway.ports.postgres as number;

    const token = await signDevToken(key, {
      issuer: DEMO_ISSUER,
      audience: DEMO_AUDIENCE,
      sub: DEMO_IDENTITY.sub,
      claims: DEMO_IDENTITY.claims,
      ttl: TOKEN_TTL,
    });
    const psql = `PGPASSWORD=${token} psql "host=127.0.0.1 port=${port} dbname=${DEMO_CONNECTION} user=${DEMO_IDENTITY.user}"`;
    const results = await tryStatements({ port, database: DEMO_CONNECTION, user: DEMO_IDENTITY.user, token }, DEMO_STATEMENTS);
    const banner = demoBanner({
      psql,
      connection: DEMO_CONNECTION,
      subject: DEMO_IDENTITY.sub,
      postgresPort: database.port,
      issuerUrl: issuer.issuer,
      configFile: files.config,
      auditFile: files.audit,
      statements: DEMO_STATEMENTS,
      results,
    });
    return { banner, psql, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The persisted dev key, created on first use, so tokens from `hoopgate token issue` keep working. */
async function demoKey(stateDir: string): Promise<DevKey> {
  if (existsSync(join(stateDir, DEV_KEY_FILE))) return loadDevKey(stateDir);
  const key = await generateDevKey();
  await saveDevKey(stateDir, key);
  return key;
}

interface ConfigInput {
  bundle: string;
  bundleKey: string;
  bundleKid: string;
  jwksUrl: string;
  target: string;
  audit: string;
}

function demoConfig(input: ConfigInput): string {
  const document = {
    listen: { postgres: "127.0.0.1:0" },
    bundle: { path: input.bundle, keys: [{ kid: input.bundleKid, jwk_file: input.bundleKey }] },
    issuers: [{ issuer: DEMO_ISSUER, audience: DEMO_AUDIENCE, jwks_url: input.jwksUrl }],
    connections: { [DEMO_CONNECTION]: { target: input.target } },
    auth: { allow_cleartext_on_loopback: true },
    audit: { file: input.audit },
    log: { level: "warn" },
  };
  return `# Written by \`hoopgate demo\` (${DEV_KEY_FILE} signs the demo's tokens). Valid only while the demo runs.\n${stringify(document)}`;
}

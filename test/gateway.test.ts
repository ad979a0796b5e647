// startGateway and `hoopgate serve` from a real config file: the machine's PostgreSQL behind
// the gateway, a local token issuer, a signed bundle that appears, changes and goes bad, and
// the JSON-lines audit file.

import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileSources, signBundle } from "../compiler/index.js";
import { loadConfig } from "../runtime/config/index.js";
import { startGateway, type Gateway } from "../runtime/gateway/index.js";
import { startDevIssuer, type DevIssuer } from "../runtime/identity/index.js";
import { createLogger } from "../runtime/log.js";
import { freshDatabase, PG } from "./support/pg-gateway.js";

const DB = "hoopgate_gateway";
const BIN = join(import.meta.dirname, "..", "bin", "hoopgate.js");
const keys = generateKeyPairSync("ed25519");
const privatePem = keys.privateKey.export({ format: "pem", type: "pkcs8" }).toString();

let dir: string;
let issuer: DevIssuer;
let configFile: string;

const policy = (deny: string) => `
connection orders {
  kind = postgres
}
group bots {
  issuer = "${issuer.issuer}"
  when   = claims.role == "bot"
}
policy bots-read {
  subjects    = [group.bots]
  connections = [connection.orders]
  deny  when sql.tables has_any ["${deny}"] { reason = "${deny} is off limits" }
  allow when sql.command == select
  mask columns ["people.email"]
}`;

async function writeBundle(text: string): Promise<void> {
  const compiled = compileSources([{ path: "bots.hoop", text }]);
  if (compiled.bundle === undefined) throw new Error(compiled.diagnostics.map((d) => d.message).join("; "));
  await writeFile(join(dir, "bundle.jws"), signBundle(compiled.bundle, privatePem, "k1"));
}

async function connect(port: number, role = "bot"): Promise<pg.Client> {
  const client = new pg.Client({ host: "127.0.0.1", port, database: "orders", user: "bot", password: await issuer.issue({ sub: `${role}-1`, claims: { role } }) });
  await client.connect();
  return client;
}

beforeAll(async () => {
  await freshDatabase(DB);
  const admin = new pg.Client({ ...PG, database: DB });
  await admin.connect();
  await admin.query("create table people (id int, name text, email text); insert into people values (1, 'Ada', 'ada@example.com')");
  await admin.query("create table secrets (id int); insert into secrets values (1)");
  await admin.end();
  dir = await mkdtemp(join(tmpdir(), "hoopgate-gateway-"));
  issuer = await startDevIssuer();
  await writeFile(join(dir, "bundle-k1.jwk"), JSON.stringify(keys.publicKey.export({ format: "jwk" })));
  configFile = join(dir, "gateway.yaml");
  await writeFile(configFile, `
listen: { postgres: "127.0.0.1:0" }
bundle: { path: ./bundle.jws, reload_interval: 1s, keys: [ { kid: k1, jwk_file: ./bundle-k1.jwk } ] }
issuers: [ { issuer: "${issuer.issuer}", audience: hoopgate, jwks_url: "${issuer.jwksUrl}" } ]
connections: { orders: { target: "postgres://postgres@127.0.0.1:5432/${DB}" } }
auth: { allow_cleartext_on_loopback: true }
audit: { file: ./.hoopgate/audit.jsonl }
log: { level: silent }
`);
});

afterAll(async () => {
  await issuer?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("startGateway", () => {
  let gateway: Gateway;

  beforeAll(async () => {
    gateway = await startGateway(await loadConfig(configFile), { logger: createLogger({ level: "silent" }) });
  });

  it("refuses every connection while no bundle is loaded", async () => {
    expect(gateway.bundle?.current()).toBeUndefined();
    await expect(connect(gateway.ports.postgres!)).rejects.toThrow(/no policy bundle is loaded/);
  });

  it("enforces a signed bundle once it appears: allow, mask, deny 42501, session goes on", async () => {
    await writeBundle(policy("secrets"));
    expect(await gateway.bundle!.reload()).toBe(true);
    const client = await connect(gateway.ports.postgres!);
    try {
      expect((await client.query("select id, name, email from people")).rows).toEqual([{ id: 1, name: "Ada", email: "[REDACTED]" }]);
      await expect(client.query("select * from secrets")).rejects.toMatchObject({ code: "42501", message: "statement denied: secrets is off limits" });
      expect((await client.query("select name from people")).rows).toEqual([{ name: "Ada" }]);
    } finally {
      await client.end();
    }
    await expect(connect(gateway.ports.postgres!, "intruder")).rejects.toThrow(/FATAL|no policy|not allowed|refused/i);
  });

  it("keeps the last good bundle when the new one does not verify", async () => {
    const good = gateway.bundle!.status().sha256;
    const forged = generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    const compiled = compileSources([{ path: "bots.hoop", text: policy("people") }]);
    await writeFile(join(dir, "bundle.jws"), signBundle(compiled.bundle!, forged, "k1"));
    expect(await gateway.bundle!.reload()).toBe(false);
    expect(gateway.bundle!.status()).toMatchObject({ sha256: good, lastError: expect.stringMatching(/signature|verif/i) });
    const client = await connect(gateway.ports.postgres!);
    expect((await client.query("select name from people")).rows).toEqual([{ name: "Ada" }]);
    await client.end();
  });

  it("records sessions and statements in the JSON-lines audit file", async () => {
    await gateway.close();
    const lines = (await readFile(join(dir, ".hoopgate", "audit.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const denied = lines.find((l) => l.type === "statement" && l.decision === "deny");
    expect(denied).toMatchObject({
      identity: { issuer: issuer.issuer, subject: "bot-1" },
      connection: "orders",
      text: "select * from secrets",
      rules: ["bots-read/deny#1"],
      reason: "secrets is off limits",
    });
    const started = lines.filter((l) => l.type === "session_started").length;
    expect(started).toBeGreaterThanOrEqual(2);
    expect(lines.filter((l) => l.type === "session_ended")).toHaveLength(started);
  });
});

describe("hoopgate serve", () => {
  it("serves the config and stops cleanly on SIGTERM", async () => {
    await writeBundle(policy("secrets"));
    const child = spawn(process.execPath, [BIN, "serve", "--config", configFile], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, HOOPGATE_LOG_LEVEL: "info" },
    });
    let stderr = "";
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not report its listener within 60 s:\n${stderr}`)), 60_000);
      child.once("exit", (code) => reject(new Error(`serve exited with ${code}:\n${stderr}`)));
      let resolved = false;
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        const ready = /"port":(\d+)[^\n]*postgres listener ready/.exec(stderr);
        if (ready !== null && !resolved) {
          resolved = true;
          clearTimeout(timer);
          child.removeAllListeners("exit");
          resolve(Number(ready[1]));
        }
      });
    });
    const client = await connect(port);
    expect((await client.query("select name from people")).rows).toEqual([{ name: "Ada" }]);
    await client.end();
    const exited = new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not exit within 20 s of SIGTERM:\n${stderr}`)), 20_000);
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 90_000);

  it("exits 2 naming the key of a bad config", async () => {
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, "listen: { postgres: nowhere }\n");
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, "serve", "--config", bad], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.once("exit", (code) => resolve({ code, stderr }));
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("listen.postgres: must be host:port");
  }, 60_000);
});

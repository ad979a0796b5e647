// TLS from the gateway to the upstream PostgreSQL, end to end: the gateway runs from a config
// file (startGateway), in front of a throwaway PostgreSQL 15 with ssl = on and hostssl-only
// pg_hba (test/support/pg-tls-cluster.ts), the machine's PostgreSQL on 5432 (ssl off), a TCP
// relay that records how each upstream connection starts, and a fake server for the injection
// guard (no real server sends bytes after its 'S').

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileSources } from "../compiler/index.js";
import { canonicalJson } from "../runtime/bundle/canonical.js";
import { ConfigError, loadConfig } from "../runtime/config/index.js";
import { postgresTargets } from "../runtime/gateway/targets.js";
import { startGateway, type Gateway } from "../runtime/gateway/index.js";
import { startDevIssuer, type DevIssuer } from "../runtime/identity/index.js";
import { createLogger } from "../runtime/log.js";
import { sendCancel } from "../runtime/postgres/cancel.js";
import { connectUpstream } from "../runtime/postgres/upstream/server-connect.js";
import { upstreamTlsOptions } from "../runtime/postgres/upstream/upstream-socket.js";
import { freshDatabase, PG } from "./support/pg-gateway.js";
import { startTlsCluster, TLS_CLUSTER_ROLES, type TlsCluster } from "./support/pg-tls-cluster.js";

const DB = "hoopgate_upstream_tls";
const ADMIN_TOKEN = "upstream-tls-admin-token-0123456789";
const SSL_REQUEST_CODE = 80877103;
const { scram, cert } = TLS_CLUSTER_ROLES;

let cluster: TlsCluster;
let dir: string;
let issuer: DevIssuer;
let gateway: Gateway;
let relay: Relay;
const logs: Record<string, unknown>[] = [];

/** A TCP relay to the TLS cluster that records the first 8 bytes of every connection. */
interface Relay {
  port: number;
  starts: Buffer[];
  close(): Promise<void>;
}

async function startRelay(port: number): Promise<Relay> {
  const starts: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: "127.0.0.1", port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.once("close", () => sockets.delete(s));
    }
    let head = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      if (head.length < 8) {
        head = Buffer.concat([head, chunk]);
        if (head.length >= 8) starts.push(head.subarray(0, 8));
      }
    });
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    starts,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const CONNECTIONS = ["full", "byname", "wrongname", "chainonly", "otherca", "certlogin", "relayed", "require5432", "default5432", "disable5432", "plain5432"];

function policy(issuerUrl: string): string {
  return [
    ...[...CONNECTIONS, "added"].map((name) => `connection ${name} {\n  kind = postgres\n  tags = ["t"]\n}`),
    `group bots {\n  issuer = "${issuerUrl}"\n  when = claims.role == "bot"\n}`,
    "policy reads {\n  subjects = [group.bots]\n  connections = [tag.t]\n  allow when sql.command == select\n}",
    "connection masked {\n  kind = postgres\n  tags = [\"m\"]\n}",
    "policy masked-reads {\n  subjects = [group.bots]\n  connections = [tag.m]\n  allow when sql.command == select\n  mask columns [\"items.name\"] { with = redact }\n}",
  ].join("\n");
}

async function client(connection: string): Promise<pg.Client> {
  const c = new pg.Client({ host: "127.0.0.1", port: gateway.ports.postgres, user: "bot", database: connection, password: await issuer.issue({ sub: "bot-1", claims: { role: "bot" } }) });
  await c.connect();
  return c;
}

async function query(connection: string, sql: string): Promise<pg.QueryResult> {
  const c = await client(connection);
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/** the gateway's log line for a failed upstream connection of `connection` */
function upstreamFailure(connection: string): string {
  const line = logs.find((l) => l.connection === connection && l.msg === "upstream connection failed");
  return String((line?.err as { message?: string } | undefined)?.message ?? "(no log line)");
}

const api = (method: string, path: string, body?: unknown) =>
  fetch(`http://127.0.0.1:${gateway.ports.api}/api/admin/${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });

beforeAll(async () => {
  cluster = await startTlsCluster();
  const admin = await cluster.admin(cluster.database);
  try {
    await admin.query("create table items (id int primary key, name text); insert into items values (1, 'one'), (2, 'two')");
    await admin.query(`grant select on items to ${scram.user}, ${cert.user}`);
  } finally {
    await admin.end();
  }
  await freshDatabase(DB);
  const local = new pg.Client({ ...PG, database: DB });
  await local.connect();
  await local.query("create table items (id int primary key, name text); insert into items values (1, 'one')");
  await local.end();
  relay = await startRelay(cluster.port);
  issuer = await startDevIssuer();
  dir = await mkdtemp(join(tmpdir(), "hoopgate-upstream-tls-"));
  const compiled = compileSources([{ path: "tls.hoop", text: policy(issuer.issuer) }]);
  if (compiled.bundle === undefined) throw new Error(compiled.diagnostics.map((d) => d.message).join("; "));
  await writeFile(join(dir, "bundle.json"), canonicalJson(compiled.bundle));
  const { ca, otherCa, clientCert, clientKey } = cluster.files;
  const tlsDb = (user: string, host: string, port = cluster.port) => `postgres://${user}@${host}:${port}/${cluster.database}`;
  const pw = `password: ${scram.password}`;
  await writeFile(join(dir, "gateway.yaml"), `
listen: { postgres: "127.0.0.1:0", api: "127.0.0.1:0" }
bundle: { path: ./bundle.json, allow_unsigned: true }
issuers: [ { issuer: "${issuer.issuer}", audience: hoopgate, jwks_url: "${issuer.jwksUrl}" } ]
connections:
  full:        { target: "${tlsDb(scram.user, "127.0.0.1")}", ${pw}, tls: { ca_file: "${ca}" } }
  byname:      { target: "${tlsDb(scram.user, "localhost")}", ${pw}, tls: { mode: verify-full, ca_file: "env:UPSTREAM_CA" } }
  wrongname:   { target: "${tlsDb(scram.user, "127.0.0.2")}", ${pw}, tls: { mode: verify-full, ca_file: "${ca}" } }
  chainonly:   { target: "${tlsDb(scram.user, "127.0.0.2")}", ${pw}, tls: { mode: verify-ca, ca_file: "${ca}" } }
  otherca:     { target: "${tlsDb(scram.user, "127.0.0.1")}", ${pw}, tls: { mode: verify-ca, ca_file: "${otherCa}" } }
  certlogin:   { target: "${tlsDb(cert.user, "127.0.0.1")}", tls: { ca_file: "${ca}", cert_file: "${clientCert}", key_file: "file:${clientKey}" } }
  relayed:     { target: "${tlsDb(scram.user, "127.0.0.1", relay.port)}", ${pw}, tls: { ca_file: "${ca}" } }
  masked:      { target: "${tlsDb(scram.user, "127.0.0.1", relay.port)}", ${pw}, tls: { ca_file: "${ca}" } }
  require5432: { target: "postgres://postgres@127.0.0.1:5432/${DB}", tls: { mode: require } }
  default5432: { target: "postgres://postgres@127.0.0.1:5432/${DB}", password: unused-but-set }
  disable5432: { target: "postgres://postgres@127.0.0.1:5432/${DB}", password: unused-but-set, tls: { mode: disable } }
  plain5432:   { target: "postgres://postgres@127.0.0.1:5432/${DB}" }
auth: { allow_cleartext_on_loopback: true }
admin: { token: ${ADMIN_TOKEN} }
audit: { file: ./.hoopgate/audit.jsonl }
`);
  const config = await loadConfig(join(dir, "gateway.yaml"), { ...process.env, UPSTREAM_CA: await readFile(ca, "utf8") });
  const destination = { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) };
  gateway = await startGateway(config, { logger: createLogger({ level: "info", destination }) });
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await issuer?.close();
  await relay?.close();
  await cluster?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("upstream TLS through the gateway", () => {
  it("verify-full (the default with a CA): a pg client's query runs over TLS, SCRAM inside it", async () => {
    const result = await query("full", "select s.ssl, current_user as who, (select count(*)::int from items) as n from pg_stat_ssl s where s.pid = pg_backend_pid()");
    expect(result.rows).toEqual([{ ssl: true, who: scram.user, n: 2 }]);
  });

  it("verify-full by host name: SNI and the certificate's DNS name; the CA from an env: reference", async () => {
    expect((await query("byname", "select count(*)::int as n from items")).rows).toEqual([{ n: 2 }]);
  });

  it("verify-full refuses a certificate that does not name the host: 08001 to the client, the reason in the log", async () => {
    await expect(query("wrongname", "select 1")).rejects.toMatchObject({ code: "08001", message: 'cannot connect to "wrongname" upstream' });
    const reason = upstreamFailure("wrongname");
    expect(reason).toContain("connections.wrongname.tls: mode verify-full");
    expect(reason).toMatch(/127\.0\.0\.2 is not in the cert's list/);
  });

  it("verify-ca checks the chain only: the same server and address pass", async () => {
    expect((await query("chainonly", "select count(*)::int as n from items")).rows).toEqual([{ n: 2 }]);
  });

  it("verify-ca refuses a server whose certificate another CA issued", async () => {
    await expect(query("otherca", "select 1")).rejects.toMatchObject({ code: "08001" });
    const reason = upstreamFailure("otherca");
    expect(reason).toContain("connections.otherca.tls: mode verify-ca");
    expect(reason).toMatch(/TLS handshake with upstream 127\.0\.0\.1:\d+ failed/);
    expect(reason).toMatch(/self-signed certificate in certificate chain|unable to (verify|get local issuer)/);
  });

  it("logs in with a client certificate (pg_hba cert), the key from a file: reference", async () => {
    expect((await query("certlogin", "select current_user as who")).rows).toEqual([{ who: cert.user }]);
  });

  it("require fails closed against a server with ssl off", async () => {
    await expect(query("require5432", "select 1")).rejects.toMatchObject({ code: "08001" });
    expect(upstreamFailure("require5432")).toBe(
      "upstream 127.0.0.1:5432 does not accept TLS (connections.require5432.tls: mode require); set mode: disable only where plaintext is acceptable",
    );
  });

  it("defaults to verify-full for a target with a password, even on loopback", async () => {
    await expect(query("default5432", "select 1")).rejects.toMatchObject({ code: "08001" });
    expect(upstreamFailure("default5432")).toContain("does not accept TLS (connections.default5432.tls: mode verify-full)");
  });

  it("disable, and the loopback trust default, connect in plaintext as before", async () => {
    expect((await query("disable5432", "select count(*)::int as n from items")).rows).toEqual([{ n: 1 }]);
    expect((await query("plain5432", "select count(*)::int as n from items")).rows).toEqual([{ n: 1 }]);
  });

  it("column masks resolve provenance through the catalog over the same TLS (it carries the same password)", async () => {
    const before = relay.starts.length;
    const result = await query("masked", "select id, name from items order by id");
    expect(result.rows).toEqual([{ id: 1, name: "[REDACTED]" }, { id: 2, name: "[REDACTED]" }]);
    const opened = relay.starts.slice(before);
    expect(opened.length).toBeGreaterThanOrEqual(2); // the session and the catalog's pool
    for (const start of opened) expect(start.readInt32BE(4)).toBe(SSL_REQUEST_CODE);
  });

  it("a client's cancel reaches the backend over TLS, like the session", async () => {
    const c = await client("relayed");
    try {
      const before = relay.starts.length;
      const sleeping = c.query("select pg_sleep(30)");
      await new Promise((resolve) => setTimeout(resolve, 300));
      const key = c as unknown as { processID: number; secretKey: number };
      await sendCancel({ host: "127.0.0.1", port: gateway.ports.postgres!, pid: key.processID, secret: key.secretKey });
      await expect(sleeping).rejects.toMatchObject({ code: "57014" });
      const cancel = relay.starts.slice(before);
      expect(cancel).toHaveLength(1);
      expect(cancel[0]!.readInt32BE(4)).toBe(SSL_REQUEST_CODE);
      expect(relay.starts.every((start) => start.readInt32BE(4) === SSL_REQUEST_CODE)).toBe(true);
    } finally {
      await c.end();
    }
  });
});

describe("node-postgres with the same TLS options (what a pg pool to the target needs)", () => {
  const connectWith = async (host: string, mode: "verify-ca" | "verify-full", ca: string) => {
    const c = new pg.Client({
      host, port: cluster.port, user: scram.user, password: scram.password, database: cluster.database,
      ssl: upstreamTlsOptions(host, { mode, ca, setting: "connections.x.tls" }),
    });
    await c.connect();
    try {
      return (await c.query("select ssl from pg_stat_ssl where pid = pg_backend_pid()")).rows;
    } finally {
      await c.end();
    }
  };

  it("verifies the server as the gateway's own sessions do", async () => {
    const ca = await readFile(cluster.files.ca, "utf8");
    expect(await connectWith("127.0.0.1", "verify-full", ca)).toEqual([{ ssl: true }]);
    expect(await connectWith("localhost", "verify-full", ca)).toEqual([{ ssl: true }]);
    expect(await connectWith("127.0.0.2", "verify-ca", ca)).toEqual([{ ssl: true }]);
    await expect(connectWith("127.0.0.2", "verify-full", ca)).rejects.toThrow(/127\.0\.0\.2 is not in the cert's list/);
    await expect(connectWith("127.0.0.1", "verify-ca", await readFile(cluster.files.otherCa, "utf8"))).rejects.toThrow(/self-signed certificate in certificate chain|unable to/);
  });
});

describe("the SSLRequest answer", () => {
  let fake: Server;
  let port: number;

  beforeAll(async () => {
    fake = createServer((socket) => {
      socket.on("error", () => undefined);
      // 'S', then what an attacker would have the gateway read as the server's first messages
      socket.once("data", () => socket.write(Buffer.concat([Buffer.from("S"), Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0])])));
    });
    await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
    port = (fake.address() as { port: number }).port;
  });

  afterAll(() => new Promise<void>((resolve) => fake.close(() => resolve())));

  it("refuses bytes sent after the 'S' before the handshake (CVE-2021-23222)", async () => {
    const target = { host: "127.0.0.1", port, user: "u", database: "d", tls: { mode: "require" as const, setting: "connections.fake.tls" } };
    await expect(connectUpstream(target, new Map())).rejects.toThrow(
      `upstream 127.0.0.1:${port} sent unencrypted data after accepting TLS; refusing it as a possible injection (connections.fake.tls: mode require)`,
    );
  });
});

describe("tls settings", () => {
  const write = async (connections: string, env: NodeJS.ProcessEnv = {}) => {
    const file = join(dir, "settings.yaml");
    await writeFile(file, `listen: { api: 127.0.0.1:0 }\nconnections:\n${connections}\n`);
    return loadConfig(file, env);
  };
  const problems = async (connections: string): Promise<string[]> => {
    try {
      await write(connections);
    } catch (error) {
      if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
      throw error;
    }
    return [];
  };

  it("default: verify-full, except a loopback target with no password and no TLS settings", async () => {
    const config = await write([
      "  remote:   { target: postgres://app@db.internal/app }",
      "  local:    { target: postgres://app@127.0.0.1/app }",
      "  localpw:  { target: postgres://app@localhost/app, password: x }",
      `  localca:  { target: postgres://app@127.0.0.1/app, tls: { ca_file: "${cluster.files.ca}" } }`,
      "  explicit: { target: postgres://app@db.internal/app, password: x, tls: { mode: disable } }",
    ].join("\n"));
    const modes = Object.fromEntries([...postgresTargets(config.connections)].map(([name, t]) => [name, t.tls?.mode]));
    expect(modes).toEqual({ remote: "verify-full", local: "disable", localpw: "verify-full", localca: "verify-full", explicit: "disable" });
  });

  it("names the key of every mistake", async () => {
    const { ca, clientCert } = cluster.files;
    expect(await problems("  h: { target: postgres://app@db/app, tls: { mode: prefer } }")).toEqual([
      "connections.h.tls.mode: must be one of disable, require, verify-ca, verify-full",
    ]);
    expect(await problems([
      "  a: { target: postgres://app@db/app, tls: { mode: verify-ca } }",
      `  b: { target: postgres://app@db/app, tls: { mode: require, ca_file: "${ca}" } }`,
      `  c: { target: postgres://app@db/app, tls: { mode: disable, ca_file: "${ca}" } }`,
      `  d: { target: postgres://app@db/app, tls: { ca_file: "${join(dir, "gateway.yaml")}" } }`,
      `  e: { target: postgres://app@db/app, tls: { cert_file: "${clientCert}" } }`,
      `  f: { target: postgres://app@db/app, tls: { cert_file: "${clientCert}", key_file: "${join(dir, "nonexistent.key")}" } }`,
      "  g: { target: ssh://deploy@bastion, tls: { mode: require } }",
      "  i: { target: postgres://app@db/app, tls: { ca_file: env:NO_SUCH_CA } }",
    ].join("\n"))).toEqual([
      "connections.a.tls.mode: verify-ca needs ca_file: against the public roots any certificate they issued would pass (use verify-full)",
      "connections.b.tls.ca_file: mode require does not verify the server: use verify-ca or verify-full with a CA",
      "connections.c.tls.ca_file: has no effect with mode disable",
      "connections.d.tls.ca_file: holds no PEM certificate",
      "connections.e.tls.key_file: is required with cert_file",
      `connections.f.tls.key_file: cannot read ${join(dir, "nonexistent.key")} (ENOENT)`,
      "connections.g.tls: only postgres connections take tls",
      "connections.i.tls.ca_file: environment variable NO_SUCH_CA is not set",
    ]);
  });

  it("refuses a client certificate with a key that is not its own", async () => {
    const file = join(dir, "wrong.key");
    const { privateKey } = await import("node:crypto").then((c) => c.generateKeyPairSync("ec", { namedCurve: "P-256" }));
    await writeFile(file, privateKey.export({ type: "pkcs8", format: "pem" }));
    const issues = await problems(`  a: { target: postgres://app@db/app, tls: { cert_file: "${cluster.files.clientCert}", key_file: "${file}" } }`);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^connections\.a\.tls\.cert_file: cannot be used with key_file \(.*key values mismatch.*\); both must be PEM, the key unencrypted$/);
  });
});

describe("the admin API's connections", () => {
  it("take the same tls setting: shown in the view, applied to sessions, checked on the way in", async () => {
    const ca = await readFile(cluster.files.ca, "utf8");
    const put = await api("PUT", "connections/added", {
      target: `postgres://${scram.user}@127.0.0.1:${cluster.port}/${cluster.database}`,
      password: scram.password,
      tls: { ca },
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ name: "added", tls: { mode: "verify-full", ca_set: true, client_cert_set: false }, source: "admin" });
    expect((await query("added", "select ssl from pg_stat_ssl where pid = pg_backend_pid()")).rows).toEqual([{ ssl: true }]);

    const views = (await (await api("GET", "connections")).json()) as { name: string; tls?: { mode: string } }[];
    expect(views.find((v) => v.name === "plain5432")?.tls?.mode).toBe("disable");
    expect(views.find((v) => v.name === "otherca")?.tls?.mode).toBe("verify-ca");

    const refused = async (body: unknown) => {
      const response = await api("PUT", "connections/refused", body);
      expect(response.status).toBe(400);
      return ((await response.json()) as { message: string }).message;
    };
    expect(await refused({ target: "postgres://a@db/b", tls: { mode: "verify-ca" } })).toBe(
      "tls.mode verify-ca needs ca: against the public roots any certificate they issued would pass (use verify-full)",
    );
    expect(await refused({ target: "postgres://a@db/b", tls: { ca: "not a certificate" } })).toBe("tls.ca holds no PEM certificate");
    expect(await refused({ target: "ssh://a@bastion", tls: { mode: "require" } })).toBe("tls: only postgres connections take tls");
    expect(await refused({ target: "postgres://a@db/b", tls: { mode: "prefer" } })).toMatch(/^tls\.mode must be equal to one of the allowed values/);
    expect((await api("DELETE", "connections/added")).status).toBe(204);
  });
});

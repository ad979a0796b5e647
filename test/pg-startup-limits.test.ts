// The client startup path's limits, on a real gateway with real clients (psql, node-pg, raw
// sockets): a refusal after the TLS handshake travels over TLS, a startup has one deadline
// however its client spaces its packets, SSLRequest and GSSENCRequest come at most once each,
// and the listener holds at most limits.max_connections clients at once.

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { promisify } from "node:util";
import pg from "pg";
import { serialize } from "pg-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, PG, startGateway, type Gateway } from "./support/pg-gateway.js";

const DB = "hoopgate_startup_limits";
const run = promisify(execFile);
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const STARTUP_TIMEOUT_MS = 1500;

const policy = (issuer: string): string => `
connection lim { kind = postgres }
group bots {
  issuer = "${issuer}"
  when   = claims.role == "bot"
}
policy bots {
  subjects    = [group.bots]
  connections = [connection.lim]
  allow when sql.command in [select]
}
`;

let tlsGw: Gateway;
let plainGw: Gateway;
let cert: Buffer;

beforeAll(async () => {
  await freshDatabase(DB);
  const dir = mkdtempSync(join(tmpdir(), "hoopgate-startup-tls-"));
  await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
    "-subj", "/CN=localhost", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")]);
  cert = readFileSync(join(dir, "cert.pem"));
  const targets = { lim: { ...PG, database: DB } };
  tlsGw = await startGateway({
    policy, targets, allowCleartextOnLoopback: false, startupTimeoutMs: STARTUP_TIMEOUT_MS, maxConnections: 3,
    tls: { key: readFileSync(join(dir, "key.pem")), cert },
  });
  plainGw = await startGateway({ policy, targets, startupTimeoutMs: STARTUP_TIMEOUT_MS });
});

afterAll(async () => {
  await tlsGw?.close();
  await plainGw?.close();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function request(code: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32BE(8, 0);
  b.writeInt32BE(code, 4);
  return b;
}

/** A raw client: what it received, and when the gateway closed it. */
interface Raw {
  socket: Socket;
  received(): Buffer;
  closed: Promise<number>;
}

async function openRaw(port: number): Promise<Raw> {
  const socket = connect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  return watch(socket);
}

function watch(socket: Socket): Raw {
  const chunks: Buffer[] = [];
  socket.on("data", (d: Buffer) => chunks.push(d));
  socket.on("error", () => undefined);
  const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
  return { socket, received: () => Buffer.concat(chunks), closed };
}

/** The first ErrorResponse in `bytes`: its fields by code letter. */
function errorIn(bytes: Buffer): Record<string, string> | undefined {
  for (let at = 0; at + 5 <= bytes.length;) {
    const type = String.fromCharCode(bytes[at]!);
    const length = bytes.readInt32BE(at + 1);
    if (type === "E") {
      const fields: Record<string, string> = {};
      for (let i = at + 5; i < at + 1 + length && bytes[i] !== 0;) {
        const end = bytes.indexOf(0, i + 1);
        fields[String.fromCharCode(bytes[i]!)] = bytes.subarray(i + 1, end).toString("utf8");
        i = end + 1;
      }
      return fields;
    }
    at += 1 + length;
  }
  return undefined;
}

function psql(port: number, database: string, password: string, sslmode = "require"): Promise<{ ok: boolean; out: string }> {
  return run("psql", ["-X", "-A", "-t", "-c", "select 1", `host=127.0.0.1 port=${port} user=ci dbname=${database} sslmode=${sslmode} connect_timeout=10`],
    { env: { ...process.env, PGPASSWORD: password } })
    .then((r) => ({ ok: true, out: r.stdout }), (e: { stderr: string }) => ({ ok: false, out: e.stderr }));
}

/** node-pg's error for a connection attempt (undefined when it connected) */
async function pgError(port: number, database: string, password: string, ssl: boolean): Promise<{ code?: string; message: string } | undefined> {
  const client = new pg.Client({ host: "127.0.0.1", port, user: "ci", database, password, ...(ssl && { ssl: { rejectUnauthorized: false } }) });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.end();
    return undefined;
  } catch (err) {
    const { code, message } = err as { code?: string; message: string };
    return { ...(code !== undefined && { code }), message };
  }
}

describe("refusals after the TLS handshake", () => {
  it("psql with sslmode=require and a bad token shows the gateway's FATAL, not an SSL error", async () => {
    const bad = await psql(tlsGw.proxy.port, "lim", "not-a-token");
    expect(bad.ok).toBe(false);
    expect(bad.out).toContain("FATAL:  token rejected");
    expect(bad.out).not.toMatch(/SSL/);
    const unknown = await psql(tlsGw.proxy.port, "nosuch", await tlsGw.token("bot"));
    expect(unknown.out).toContain('FATAL:  access to "nosuch" refused');
    expect(unknown.out).not.toMatch(/SSL/);
    expect(await psql(tlsGw.proxy.port, "lim", await tlsGw.token("bot"))).toEqual({ ok: true, out: "1\n" });
  });

  it("node-pg over TLS gets 28P01 / 28000, not an SSL error", async () => {
    expect(await pgError(tlsGw.proxy.port, "lim", "not-a-token", true)).toMatchObject({ code: "28P01" });
    expect(await pgError(tlsGw.proxy.port, "nosuch", await tlsGw.token("bot"), true)).toMatchObject({ code: "28000" });
  });

  it("a framing error after the handshake is answered over TLS, and the connection closed", async () => {
    const raw = connect({ host: "127.0.0.1", port: tlsGw.proxy.port });
    await new Promise<void>((resolve) => raw.once("connect", resolve));
    raw.write(request(SSL_REQUEST));
    await new Promise<void>((resolve) => raw.once("data", () => resolve()));
    const sniffed: Buffer[] = [];
    const secure: TLSSocket = tlsConnect({ socket: raw, rejectUnauthorized: false, servername: "localhost" });
    await new Promise<void>((resolve, reject) => secure.once("secureConnect", resolve).once("error", reject));
    raw.prependListener("data", (d: Buffer) => sniffed.push(d));
    const client = watch(secure as unknown as Socket);
    const bad = Buffer.alloc(8);
    bad.writeInt32BE(1 << 20, 0); // a startup packet length over the limit
    secure.write(bad);
    await client.closed;
    expect(errorIn(client.received())).toMatchObject({ S: "FATAL", C: "08P01", M: expect.stringContaining("invalid startup packet length") });
    // nothing went past TLS in cleartext
    expect(Buffer.concat(sniffed).includes(Buffer.from("invalid startup"))).toBe(false);
  });

  it("a client sending garbage records after its refusal does not hurt the gateway", async () => {
    const raw = connect({ host: "127.0.0.1", port: tlsGw.proxy.port });
    raw.on("error", () => undefined);
    await new Promise<void>((resolve) => raw.once("connect", resolve));
    raw.write(request(SSL_REQUEST));
    await new Promise<void>((resolve) => raw.once("data", () => resolve()));
    const secure = tlsConnect({ socket: raw, rejectUnauthorized: false, servername: "localhost" });
    secure.on("error", () => undefined);
    await new Promise<void>((resolve) => secure.once("secureConnect", resolve));
    secure.write(serialize.startup({ user: "ci", database: "lim" }));
    secure.write(serialize.password("not-a-token"));
    await sleep(100);
    raw.write(Buffer.from("\x17\x03\x03\x00\x10garbagegarbage!!"));
    await sleep(200);
    raw.destroy();
    expect(await psql(tlsGw.proxy.port, "lim", await tlsGw.token("bot"))).toEqual({ ok: true, out: "1\n" });
  });
});

describe("one startup deadline", () => {
  it("closes a client that keeps sending requests at the deadline (GSSENCRequest, then SSLRequest refused with N)", async () => {
    const client = await openRaw(plainGw.proxy.port);
    const started = Date.now();
    // every request well within the deadline: only the whole startup's deadline stops it
    client.socket.write(request(GSSENC_REQUEST));
    await sleep(STARTUP_TIMEOUT_MS / 2);
    client.socket.write(request(SSL_REQUEST));
    const ticker = setInterval(() => client.socket.write(Buffer.from([0])), STARTUP_TIMEOUT_MS / 4);
    const closedAt = await client.closed;
    clearInterval(ticker);
    expect(closedAt - started).toBeGreaterThanOrEqual(STARTUP_TIMEOUT_MS - 50);
    expect(closedAt - started).toBeLessThan(STARTUP_TIMEOUT_MS + 1000);
    const received = client.received();
    expect(received.subarray(0, 2).toString("latin1")).toBe("NN");
    expect(errorIn(received.subarray(2))).toMatchObject({ C: "08P01", M: "invalid startup: startup timed out" });
  });

  it("the deadline covers the TLS handshake and the StartupMessage after it", async () => {
    const raw = connect({ host: "127.0.0.1", port: tlsGw.proxy.port });
    await new Promise<void>((resolve) => raw.once("connect", resolve));
    const started = Date.now();
    raw.write(request(GSSENC_REQUEST));
    await sleep(STARTUP_TIMEOUT_MS / 2);
    raw.write(request(SSL_REQUEST));
    await new Promise<void>((resolve) => raw.on("data", (d: Buffer) => d.includes("S") && resolve()));
    const secure = tlsConnect({ socket: raw, rejectUnauthorized: false, servername: "localhost" });
    await new Promise<void>((resolve) => secure.once("secureConnect", resolve));
    const client = watch(secure as unknown as Socket);
    // half a startup packet: the gateway waits for the rest until the deadline, not a fresh timeout
    secure.write(serialize.startup({ user: "ci", database: "lim" }).subarray(0, 6));
    const closedAt = await client.closed;
    expect(closedAt - started).toBeLessThan(STARTUP_TIMEOUT_MS + 1000);
    expect(errorIn(client.received())).toMatchObject({ C: "08P01", M: "invalid startup: startup timed out" });
  });

  it("the deadline covers the password message", async () => {
    const client = await openRaw(plainGw.proxy.port);
    const started = Date.now();
    client.socket.write(serialize.startup({ user: "ci", database: "lim" }));
    const closedAt = await client.closed;
    expect(closedAt - started).toBeGreaterThanOrEqual(STARTUP_TIMEOUT_MS - 50);
    expect(closedAt - started).toBeLessThan(STARTUP_TIMEOUT_MS + 1000);
    expect(client.received()[0]).toBe("R".charCodeAt(0));
    expect(errorIn(client.received().subarray(9))).toMatchObject({ C: "08P01", M: "invalid startup: startup timed out" });
  });
});

describe("SSLRequest and GSSENCRequest at most once each", () => {
  it("a second SSLRequest is a protocol violation (TLS off: after N)", async () => {
    const client = await openRaw(plainGw.proxy.port);
    client.socket.write(request(SSL_REQUEST));
    await sleep(50);
    client.socket.write(request(SSL_REQUEST));
    await client.closed;
    expect(client.received()[0]).toBe("N".charCodeAt(0));
    expect(errorIn(client.received().subarray(1))).toMatchObject({ S: "FATAL", C: "08P01", M: "SSLRequest sent more than once" });
  });

  it("a second SSLRequest over TLS is answered over TLS", async () => {
    const raw = connect({ host: "127.0.0.1", port: tlsGw.proxy.port });
    await new Promise<void>((resolve) => raw.once("connect", resolve));
    raw.write(request(SSL_REQUEST));
    await new Promise<void>((resolve) => raw.once("data", () => resolve()));
    const secure = tlsConnect({ socket: raw, rejectUnauthorized: false, servername: "localhost" });
    await new Promise<void>((resolve) => secure.once("secureConnect", resolve));
    const client = watch(secure as unknown as Socket);
    secure.write(request(SSL_REQUEST));
    await client.closed;
    expect(errorIn(client.received())).toMatchObject({ C: "08P01", M: "SSLRequest sent more than once" });
  });

  it("a second GSSENCRequest is a protocol violation; GSSENC then SSL (libpq's gssencmode=prefer) is fine", async () => {
    const client = await openRaw(plainGw.proxy.port);
    client.socket.write(request(GSSENC_REQUEST));
    await sleep(50);
    client.socket.write(request(GSSENC_REQUEST));
    await client.closed;
    expect(client.received()[0]).toBe("N".charCodeAt(0));
    expect(errorIn(client.received().subarray(1))).toMatchObject({ C: "08P01", M: "GSSENCRequest sent more than once" });
    const r = await run("psql", ["-X", "-A", "-t", "-c", "select 1", `host=127.0.0.1 port=${tlsGw.proxy.port} user=ci dbname=lim sslmode=require gssencmode=prefer`],
      { env: { ...process.env, PGPASSWORD: await tlsGw.token("bot") } });
    expect(r.stdout).toBe("1\n");
  });
});

describe("limits.max_connections", () => {
  it("still serves a CancelRequest at the cap, as PostgreSQL does past max_connections", async () => {
    const token = await tlsGw.token("bot");
    const busy = new pg.Client({ host: "127.0.0.1", port: tlsGw.proxy.port, user: "ci", database: "lim", password: token, ssl: { rejectUnauthorized: false } });
    busy.on("error", () => undefined);
    await busy.connect();
    const stalled = [await openRaw(tlsGw.proxy.port), await openRaw(tlsGw.proxy.port)];
    await sleep(50);
    try {
      const started = Date.now();
      const running = busy.query("select pg_sleep(5)").then(() => undefined, (err: { code?: string }) => err.code);
      await sleep(300);
      const key = busy as unknown as { processID: number; secretKey: number };
      const cancel = Buffer.alloc(16);
      cancel.writeInt32BE(16, 0);
      cancel.writeInt32BE(80877102, 4);
      cancel.writeInt32BE(key.processID, 8);
      cancel.writeInt32BE(key.secretKey, 12);
      const canceller = await openRaw(tlsGw.proxy.port);
      canceller.socket.write(cancel);
      await canceller.closed;
      expect(canceller.received()).toHaveLength(0);
      expect(await running).toBe("57014");
      expect(Date.now() - started).toBeLessThan(3_000);
      // anything else is still refused
      const refused = await openRaw(tlsGw.proxy.port);
      refused.socket.write(request(SSL_REQUEST));
      await refused.closed;
      expect(errorIn(refused.received())).toMatchObject({ C: "53300" });
    } finally {
      for (const s of stalled) s.socket.destroy();
      await busy.end();
      await sleep(100);
    }
  });

  it("refuses a connection past the cap with 53300, and takes one again when a client leaves", async () => {
    // tlsGw allows 3: two sessions and one client stalled in startup fill it
    const token = await tlsGw.token("bot");
    const sessions = [0, 1].map(() => new pg.Client({ host: "127.0.0.1", port: tlsGw.proxy.port, user: "ci", database: "lim", password: token, ssl: { rejectUnauthorized: false } }));
    for (const s of sessions) {
      s.on("error", () => undefined);
      await s.connect();
    }
    const stalled = await openRaw(tlsGw.proxy.port);
    await sleep(50);

    const refused = await openRaw(tlsGw.proxy.port);
    await refused.closed;
    expect(errorIn(refused.received())).toMatchObject({ S: "FATAL", C: "53300", M: expect.stringContaining("too many connections") });
    const viaPsql = await psql(tlsGw.proxy.port, "lim", token, "disable");
    expect(viaPsql.ok).toBe(false);
    expect(viaPsql.out).toContain("FATAL:  too many connections");
    // the refusal comes before any TLS, as the answer to the SSLRequest; libpq (since the fix for
    // CVE-2024-10977) does not show an error text it got there, unauthenticated, only that it came
    const viaTls = await psql(tlsGw.proxy.port, "lim", token);
    expect(viaTls.ok).toBe(false);
    expect(viaTls.out).toContain("server sent an error response during SSL exchange");
    expect(await pgError(tlsGw.proxy.port, "lim", token, false)).toMatchObject({ code: "53300" });

    // a session leaving frees its slot
    await sessions[0]!.end();
    await sleep(100);
    expect(await psql(tlsGw.proxy.port, "lim", token)).toEqual({ ok: true, out: "1\n" });
    await sleep(100);
    // full again; a client the startup deadline closed frees its slot too
    const third = new pg.Client({ host: "127.0.0.1", port: tlsGw.proxy.port, user: "ci", database: "lim", password: token, ssl: { rejectUnauthorized: false } });
    third.on("error", () => undefined);
    await third.connect();
    expect(await pgError(tlsGw.proxy.port, "lim", token, false)).toMatchObject({ code: "53300" });
    await stalled.closed;
    await sleep(100);
    expect(await psql(tlsGw.proxy.port, "lim", token)).toEqual({ ok: true, out: "1\n" });
    await third.end();
    await sessions[1]!.end();
  });
});

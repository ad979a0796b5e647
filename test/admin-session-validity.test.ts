// What the admin API changes reaches the sessions already open, on a real gateway: removing a
// connection or a token issuer, pointing a connection at another database, or changing the
// issuer's keys ends the sessions they authorized with FATAL 28000 (as a bundle change that
// refuses them does); edits that leave the session's target and trust as they were do not.
// And masking resolves a session's columns in the database it is connected to, not in the one
// its connection named when a catalog was first opened for it.

import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileSources, signBundle } from "../compiler/index.js";
import { loadConfig } from "../runtime/config/index.js";
import { startGateway, type Gateway } from "../runtime/gateway/index.js";
import { startDevIssuer, type DevIssuer } from "../runtime/identity/index.js";
import { dropDatabase, freshDatabase, PG } from "./support/pg-gateway.js";

const ADMIN = "admin-session-validity-bootstrap-token";
const DB = "hoopgate_admin_validity";
const OTHER = "hoopgate_admin_validity_other";
/** two databases copied from one template: the same table OID is `notes.note` in one, `customers.email` in the other */
const TEMPLATE = "hoopgate_admin_validity_tpl";
const NOTES = "hoopgate_admin_validity_notes";
const CUSTOMERS = "hoopgate_admin_validity_customers";

let dir: string;
let issuer: DevIssuer;
let gateway: Gateway;

async function sql(database: string, ...statements: string[]): Promise<unknown[][]> {
  const client = new pg.Client({ ...PG, database });
  await client.connect();
  try {
    const out: unknown[][] = [];
    for (const statement of statements) out.push((await client.query(statement)).rows);
    return out;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await Promise.all([freshDatabase(DB), freshDatabase(OTHER), freshDatabase(TEMPLATE)]);
  await sql(TEMPLATE, "create table t (c text)");
  await Promise.all([dropDatabase(NOTES), dropDatabase(CUSTOMERS)]);
  await sql("postgres", `create database ${NOTES} template ${TEMPLATE}`, `create database ${CUSTOMERS} template ${TEMPLATE}`);
  await sql(NOTES, "alter table t rename to notes", "alter table notes rename column c to note", "insert into notes values ('hello')");
  await sql(CUSTOMERS, "alter table t rename to customers", "alter table customers rename column c to email", "insert into customers values ('alice@example.com')");

  dir = mkdtempSync(join(tmpdir(), "hoopgate-admin-validity-"));
  issuer = await startDevIssuer();
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  writeFileSync(join(dir, "pub.jwk"), JSON.stringify(publicKey.export({ format: "jwk" })));
  const compiled = compileSources([{ path: "p.hoop", text: `
connection app { kind = postgres }
connection masked { kind = postgres }
group bots {
  issuer = "${issuer.issuer}"
  when   = claims.role == "bot"
}
policy bots {
  subjects    = [group.bots]
  connections = [connection.app, connection.masked]
  allow when sql.command == select
  mask columns ["customers.email"] { with = redact }
}
` }]);
  if (compiled.bundle === undefined) throw new Error(compiled.diagnostics.map((d) => d.message).join("; "));
  writeFileSync(join(dir, "bundle.json"), signBundle(compiled.bundle, privateKey.export({ type: "pkcs8", format: "pem" }).toString(), "k1"));
  writeFileSync(join(dir, "gateway.yaml"), [
    "listen: { api: 127.0.0.1:0, postgres: 127.0.0.1:0 }",
    "bundle: { path: ./bundle.json, keys: [ { kid: k1, jwk_file: ./pub.jwk } ] }",
    "issuers: []",
    "connections: {}",
    `admin: { token: ${ADMIN} }`,
    "auth: { allow_cleartext_on_loopback: true }",
    "log: { level: silent }",
  ].join("\n"));
  gateway = await startGateway(await loadConfig(join(dir, "gateway.yaml")));
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await issuer?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  for (const db of [DB, OTHER, NOTES, CUSTOMERS, TEMPLATE]) await dropDatabase(db).catch(() => undefined);
});

async function admin(method: string, path: string, body?: unknown): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${gateway.ports.api}/api/admin/${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  await response.body?.cancel();
  return response.status;
}

const issuerPath = () => `issuers/${encodeURIComponent(issuer.issuer)}`;
const trustIssuer = (jwksUrl = issuer.jwksUrl, audience = [issuer.audience]) => admin("PUT", issuerPath(), { audience, jwks_url: jwksUrl });
const pointApp = (database: string, extra: Record<string, unknown> = {}) =>
  admin("PUT", "connections/app", { target: `postgres://postgres@127.0.0.1:5432/${database}`, tls: { mode: "disable" }, ...extra });

/** a session through the gateway, and the first error it gets outside a query */
async function open(database = "app"): Promise<{ client: pg.Client; unsolicited: Promise<Error & { code?: string }> }> {
  const token = await issuer.issue({ sub: "bot-1", claims: { role: "bot" }, ttl: "1h" });
  const client = new pg.Client({ host: "127.0.0.1", port: gateway.ports.postgres!, user: "bot", database, password: token });
  const unsolicited = new Promise<Error & { code?: string }>((resolve) => client.on("error", resolve));
  await client.connect();
  expect((await client.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
  return { client, unsolicited };
}

async function stillRuns(client: pg.Client): Promise<void> {
  expect((await client.query("select 2 as two")).rows).toEqual([{ two: 2 }]);
}

describe("admin changes end the open sessions they no longer authorize", () => {
  beforeAll(async () => {
    expect(await trustIssuer()).toBe(200);
    expect(await pointApp(DB)).toBe(200);
  });

  it("removing the issuer ends the session; a new login with the same token is refused too", async () => {
    const { client, unsolicited } = await open();
    expect(await admin("DELETE", issuerPath())).toBe(204);
    expect(await unsolicited).toMatchObject({ code: "28000", message: `session ended: the token is no longer accepted: issuer ${issuer.issuer} is no longer trusted` });
    await expect(client.query("select 1")).rejects.toThrow();
    await client.end().catch(() => undefined);
    await expect(open()).rejects.toMatchObject({ code: "28P01" });
    expect(await trustIssuer()).toBe(200);
  });

  it("pointing the issuer at other keys ends the session; narrowing its audience past the token's ends it too", async () => {
    const first = await open();
    expect(await trustIssuer(`${issuer.jwksUrl}?rotated=1`)).toBe(200);
    expect(await first.unsolicited).toMatchObject({ code: "28000", message: `session ended: the token is no longer accepted: the keys or verification settings of issuer ${issuer.issuer} changed` });
    await first.client.end().catch(() => undefined);
    expect(await trustIssuer()).toBe(200);

    const second = await open();
    expect(await trustIssuer(issuer.jwksUrl, [issuer.audience, "another-audience"])).toBe(200);
    await stillRuns(second.client);
    expect(await trustIssuer(issuer.jwksUrl, ["another-audience"])).toBe(200);
    expect(await second.unsolicited).toMatchObject({ code: "28000", message: `session ended: the token is no longer accepted: issuer ${issuer.issuer} no longer accepts the token's audience` });
    await second.client.end().catch(() => undefined);
    expect(await trustIssuer()).toBe(200);
  });

  it("removing the connection ends the session", async () => {
    const { client, unsolicited } = await open();
    expect(await admin("DELETE", "connections/app")).toBe(204);
    expect(await unsolicited).toMatchObject({ code: "28000", message: 'session ended: the connection "app" was removed' });
    await expect(client.query("select 1")).rejects.toThrow();
    await client.end().catch(() => undefined);
    expect(await pointApp(DB)).toBe(200);
  });

  it("pointing the connection at another database ends the session; a new password or other objects' changes do not", async () => {
    const { client, unsolicited } = await open();
    expect(await pointApp(DB, { password: "rotated-secret" })).toBe(200);
    expect(await admin("PUT", "connections/unrelated", { target: "postgres://postgres@127.0.0.1:5432/postgres" })).toBe(200);
    expect(await admin("POST", "webhooks", { url: "http://127.0.0.1:9/hook" })).toBe(201);
    await stillRuns(client);
    expect((await client.query("select current_database() as db")).rows).toEqual([{ db: DB }]);
    expect(await pointApp(OTHER)).toBe(200);
    expect(await unsolicited).toMatchObject({ code: "28000", message: 'session ended: the connection "app" now leads to another target' });
    await expect(client.query("select current_database()")).rejects.toThrow();
    await client.end().catch(() => undefined);
    // new sessions go where the connection leads now
    const fresh = await open();
    expect((await fresh.client.query("select current_database() as db")).rows).toEqual([{ db: OTHER }]);
    await fresh.client.end();
    expect(await pointApp(DB)).toBe(200);
  });
});

describe("masking follows the session's target, not the connection's name", () => {
  const pointMasked = (database: string) => admin("PUT", "connections/masked", { target: `postgres://postgres@127.0.0.1:5432/${database}`, tls: { mode: "disable" } });
  const catalogSessions = async (database: string) =>
    Number(((await sql("postgres", `select count(*) as n from pg_stat_activity where application_name = 'hoopgate-catalog' and datname = '${database}'`))[0]![0] as { n: string }).n);

  it("after the connection moves to another database, the same table OID is looked up there, and the old catalog is closed", async () => {
    const [[notes], [customers]] = [
      await sql(NOTES, "select 'notes'::regclass::oid::int as oid"),
      await sql(CUSTOMERS, "select 'customers'::regclass::oid::int as oid"),
    ];
    expect(notes).toEqual(customers); // the premise: one OID, two tables
    expect(await trustIssuer()).toBe(200);
    expect(await pointMasked(NOTES)).toBe(200);
    const before = await open("masked");
    expect((await before.client.query("select note from notes")).rows).toEqual([{ note: "hello" }]);
    await before.client.end();
    expect(await catalogSessions(NOTES)).toBeGreaterThan(0);

    expect(await pointMasked(CUSTOMERS)).toBe(200);
    const after = await open("masked");
    const { rows } = await after.client.query("select email from customers");
    expect(rows).toHaveLength(1);
    expect(rows[0].email).not.toContain("alice");
    await after.client.end();
    // nothing uses the catalog of the database the connection left: its pool is closed
    const deadline = Date.now() + 5_000;
    while ((await catalogSessions(NOTES)) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await catalogSessions(NOTES)).toBe(0);
  });
});

// limits.max_statement_size: a Query or Parse message over it ends the session with FATAL 54000
// at its header — the gateway neither waits for, buffers, parses, forwards nor records its text —
// while statements under it, other sessions and new ones go on. Driven through `startGateway`
// from a config file, with the JSON-lines audit file.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../runtime/config/index.js";
import { startGateway, type Gateway } from "../runtime/gateway/index.js";
import { startDevIssuer, type DevIssuer } from "../runtime/identity/index.js";
import { createLogger } from "../runtime/log.js";
import { writeSelectOnlyBundle } from "./support/select-only-bundle.js";
import { freshDatabase } from "./support/pg-gateway.js";
import { errorFields, RawSession } from "./support/pg-raw-session.js";

const DB = "hoopgate_statement_limit";
const LIMIT = 64 * 1024;

let dir: string;
let issuer: DevIssuer;
let gateway: Gateway;

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ host: "127.0.0.1", port: gateway.ports.postgres, database: "orders", user: "bot", password: await issuer.issue({ sub: "bot-1", claims: { role: "bot" } }) });
  client.on("error", () => undefined); // the gateway ends sessions here on purpose
  await client.connect();
  return client;
}

beforeAll(async () => {
  await freshDatabase(DB);
  dir = await mkdtemp(join(tmpdir(), "hoopgate-statement-limit-"));
  issuer = await startDevIssuer();
  await writeSelectOnlyBundle(dir, issuer.issuer);
  await writeFile(join(dir, "gateway.yaml"), `
listen: { postgres: "127.0.0.1:0" }
bundle: { path: ./bundle.json, allow_unsigned: true }
issuers: [ { issuer: "${issuer.issuer}", audience: hoopgate, jwks_url: "${issuer.jwksUrl}" } ]
connections: { orders: { target: "postgres://postgres@127.0.0.1:5432/${DB}" } }
auth: { allow_cleartext_on_loopback: true }
audit: { file: ./audit.jsonl }
limits: { max_statement_size: 64KiB }
log: { level: silent }
`);
  gateway = await startGateway(await loadConfig(join(dir, "gateway.yaml")), { logger: createLogger({ level: "silent" }) });
});

afterAll(async () => {
  await gateway?.close();
  await issuer?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("limits.max_statement_size", () => {
  it("runs statements up to the limit, simple and extended", async () => {
    const client = await connect();
    try {
      const text = (n: number): string => `select length('${"x".repeat(n)}') as n`;
      // a Query is its text and 6 bytes (type, length, NUL); a Parse 9 with an unnamed statement and no parameter types
      const fits = LIMIT - 6 - text(0).length;
      expect((await client.query(text(fits))).rows).toEqual([{ n: fits }]);
      const where = " where $1::int = 1";
      const parsed = LIMIT - 9 - text(0).length - where.length;
      expect((await client.query({ text: `${text(parsed)}${where}`, values: [1] })).rows).toEqual([{ n: parsed }]);
    } finally {
      await client.end();
    }
  });

  it("ends the session with FATAL 54000 at a Query or Parse over it; other sessions go on", async () => {
    const bystander = await connect();
    const big = `select '${"\u0001".repeat(LIMIT)}'`;
    for (const send of [(c: pg.Client) => c.query(big), (c: pg.Client) => c.query({ text: big, values: [] })]) {
      const client = await connect();
      const error = await send(client).then(() => undefined, (err: unknown) => err);
      expect(error).toMatchObject({
        code: "54000", severity: "FATAL",
        message: expect.stringMatching(/^statement too large: a (Query|Parse) message of \d+ bytes is over the gateway's limit of 65536 \(limits\.max_statement_size\); the session is ended without reading it$/),
      });
      await expect(client.query("select 1")).rejects.toThrow();
      await client.end().catch(() => undefined);
    }
    expect((await bystander.query("select 1 as n")).rows).toEqual([{ n: 1 }]);
    await bystander.end();
    const fresh = await connect();
    expect((await fresh.query("select 2 as n")).rows).toEqual([{ n: 2 }]);
    await fresh.end();
  });

  it("answers from the header alone: the body of a 60 MB Query is never waited for", async () => {
    const raw = await RawSession.open({ host: "127.0.0.1", port: gateway.ports.postgres!, user: "bot", database: "orders", password: await issuer.issue({ sub: "bot-1", claims: { role: "bot" } }) });
    const header = Buffer.alloc(5 + 1000, 1);
    header[0] = 0x51;
    header.writeInt32BE(60_000_000 - 1, 1);
    raw.send(header); // and nothing more
    const answer = await raw.next();
    expect(answer.type).toBe("E");
    expect(errorFields(answer)).toMatchObject({ S: "FATAL", C: "54000", M: expect.stringContaining("a Query message of 60000000 bytes") });
    await expect(raw.next()).rejects.toThrow("connection closed");
  }, 10_000);

  it("records the session's end with the refusal, and nothing of the statement", async () => {
    await gateway.close();
    const lines = (await readFile(join(dir, "audit.jsonl"), "utf8")).trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const ended = lines.filter((l) => l.type === "session_ended" && typeof l.error === "string" && l.error.startsWith("statement too large"));
    expect(ended).toHaveLength(3);
    expect(lines.filter((l) => l.type === "statement" && String(l.text).includes("\u0001"))).toEqual([]);
  });
});

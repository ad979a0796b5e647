// The gateway reads statements as the server does only under an ASCII-safe client encoding and
// standard_conforming_strings = on: every way of changing either is refused or ends the session.

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, PG, startGateway, type Gateway } from "./support/pg-gateway.js";

const run = promisify(execFile);
const DB = "hoopgate_lexer_guard";
const OFF_DB = "hoopgate_lexer_guard_off";

const policy = (issuer: string): string => `
connection guarded { kind = postgres }
connection scs-off { kind = postgres }
group bots {
  issuer = "${issuer}"
  when   = claims.role == "bot"
}
policy bots-work {
  subjects    = [group.bots]
  connections = [connection.guarded, connection.scs-off]
  allow when sql.command in [select, set, show]
}
`;

let gw: Gateway;

beforeAll(async () => {
  await freshDatabase(DB);
  await freshDatabase(OFF_DB);
  const admin = new pg.Client({ ...PG, database: DB });
  await admin.connect();
  await admin.query(`CREATE FUNCTION flip() RETURNS text LANGUAGE plpgsql AS $$
    BEGIN PERFORM set_config('standard_conforming_strings', 'off', false); RETURN 'flipped'; END $$`);
  await admin.query(`ALTER DATABASE ${OFF_DB} SET standard_conforming_strings = off`);
  await admin.end();
  gw = await startGateway({
    policy,
    targets: {
      guarded: { host: PG.host, port: PG.port, user: PG.user, database: DB },
      "scs-off": { host: PG.host, port: PG.port, user: PG.user, database: OFF_DB },
    },
  });
});

afterAll(async () => {
  await gw?.close();
});

async function client(database: string): Promise<pg.Client> {
  const c = new pg.Client({ host: "127.0.0.1", port: gw.proxy.port, user: "bot", database, password: await gw.token("bot") });
  c.on("error", () => undefined);
  await c.connect();
  return c;
}

describe("lexer settings through the proxy", () => {
  it("refuses a multibyte client encoding whose trailing bytes can be backslashes", async () => {
    const env = { ...process.env, PGPASSWORD: await gw.token("bot"), PGCLIENTENCODING: "SJIS" };
    // async: the gateway answering psql runs in this process
    const psql = await run("psql", ["-h", "127.0.0.1", "-p", String(gw.proxy.port), "-U", "bot", "-d", "guarded", "-c", "SELECT 1"], { env }).then(
      () => ({ failed: false, stderr: "" }),
      (err: { code?: unknown; stderr?: string }) => {
        if (err.code === "ENOENT") throw new Error("psql (Debian package postgresql-client) is needed for this test");
        return { failed: true, stderr: err.stderr ?? "" };
      },
    );
    expect(psql.failed).toBe(true);
    expect(psql.stderr).toContain("client_encoding SJIS is not supported through the gateway");
  });

  it("denies moving search_path to another schema (a rule on billing.cards must see `cards`); the default's schemas pass", async () => {
    const c = await client("guarded");
    for (const sql of ["SET search_path = billing", "SELECT set_config('search_path', 'billing, public', false)"]) {
      await expect(c.query(sql)).rejects.toMatchObject({
        code: "42501",
        message: "statement denied: setting search_path to other schemas is not allowed through the gateway: unqualified names would resolve where its policy does not look; qualify the names instead",
      });
    }
    await c.query("SET search_path = public, pg_catalog");
    expect((await c.query("SHOW search_path")).rows).toEqual([{ search_path: "public, pg_catalog" }]);
    await c.end();
  });

  it("denies SET standard_conforming_strings and the session goes on", async () => {
    const c = await client("guarded");
    await expect(c.query("SET standard_conforming_strings = off")).rejects.toMatchObject({ code: "42501" });
    await expect(c.query("SET client_encoding = 'BIG5'")).rejects.toMatchObject({ code: "42501" });
    expect((await c.query("SHOW standard_conforming_strings")).rows).toEqual([{ standard_conforming_strings: "on" }]);
    await c.end();
  });

  it("ends the session when the server reports standard_conforming_strings off", async () => {
    const c = await client("guarded");
    await expect(c.query("SELECT flip()")).rejects.toMatchObject({ code: "55000" });
  });

  it("refuses a target whose server starts sessions with standard_conforming_strings off", async () => {
    await expect(client("scs-off")).rejects.toMatchObject({ code: "08001" });
  });
});

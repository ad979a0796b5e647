// The PostgreSQL proxy against the machine's real PostgreSQL, with real clients: pg (simple and
// extended protocol), postgres (porsager) and psql.

import { execFile } from "node:child_process";
import { connect } from "node:net";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { serialize } from "pg-protocol";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, PG, startGateway, type Gateway } from "./support/pg-gateway.js";

const DB = "hoopgate_pgproxy";
const run = promisify(execFile);

const policy = (issuer: string): string => `
connection testdb { kind = postgres }
connection scramdb { kind = postgres }
connection md5db { kind = postgres }
connection md5plain { kind = postgres }
group writers {
  issuer = "${issuer}"
  when   = claims.role == "writer"
}
group readers {
  issuer = "${issuer}"
  when   = claims.role == "reader"
}

policy writers-work {
  subjects    = [group.writers]
  connections = [connection.testdb, connection.scramdb, connection.md5db, connection.md5plain]
  deny   when sql.command in [drop, truncate] { reason = "no destructive DDL" }
  review when sql.command == delete and not sql.has_where { approvers = [group.readers] }
  allow  when sql.command in [select, insert, update, delete, begin, commit, rollback, copy, set, show, create]
}

policy readers-masked {
  subjects    = [group.readers]
  connections = [connection.testdb]
  allow when sql.command in [select, begin, commit, rollback, copy]
  mask columns ["people.email"] { with = partial(4) }
  mask columns ["people.ssn"]
  mask detect  [credit_card]
  limit rows = 50 per statement
}
`;

let gw: Gateway;
let direct: pg.Client;

function proxied(token: string, extra: Partial<pg.ClientConfig> = {}): pg.Client {
  return new pg.Client({ host: "127.0.0.1", port: gw.proxy.port, user: "ci", database: "testdb", password: token, ...extra });
}

async function withClient<T>(role: string, body: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = proxied(await gw.token(role));
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await freshDatabase(DB);
  direct = new pg.Client({ ...PG, database: DB });
  await direct.connect();
  await direct.query(`
    create table items (id int primary key, name text, price numeric(10,2), tags text[], created timestamptz);
    insert into items select g, 'item ' || g, g * 1.5, array['a','b'], '2024-01-01'::timestamptz + g * interval '1 hour' from generate_series(1, 200) g;
    create table people (id int primary key, name text, email text, ssn text, note text);
    insert into people values (1, 'Ada', 'ada@example.com', '123-45-6789', 'card 4111 1111 1111 1111'),
                              (2, 'Bob', 'bob@example.org', '987-65-4321', 'nothing here');
    create view people_v as select id, email from people;
    create table cards (id int primary key, note text);
    insert into cards values (1, 'paid with 4111 1111 1111 1111, thanks'), (2, 'a "quoted"; note'), (3, null);
    create table log (id serial primary key, msg text);
    drop role if exists hoopgate_scram;
    drop role if exists hoopgate_md5;
    set password_encryption = 'scram-sha-256';
    create role hoopgate_scram login password 'scram-secret';
    set password_encryption = 'md5';
    create role hoopgate_md5 login password 'md5-secret';
    grant select on items to hoopgate_scram, hoopgate_md5;
  `);
  gw = await startGateway({
    policy,
    targets: {
      testdb: { ...PG, database: DB },
      scramdb: { ...PG, user: "hoopgate_scram", password: "scram-secret", database: DB },
      // md5 over plain TCP: only with the explicit opt-in (require_auth)
      md5db: { ...PG, user: "hoopgate_md5", password: "md5-secret", database: DB, requireAuth: ["md5"] },
      md5plain: { ...PG, user: "hoopgate_md5", password: "md5-secret", database: DB },
    },
  });
});

afterAll(async () => {
  await direct?.end();
  await gw?.close();
});

describe("pg, simple and extended protocol", () => {
  it("returns exactly what a direct connection returns", async () => {
    const sql = "select * from items order by id";
    const want = await direct.query({ text: sql, rowMode: "array" });
    await withClient("writer", async (c) => {
      const simple = await c.query({ text: sql, rowMode: "array" });
      expect(simple.rows).toEqual(want.rows);
      expect(simple.fields.map((f) => f.name)).toEqual(want.fields.map((f) => f.name));
      const extended = await c.query({ text: "select * from items where id > $1 order by id", values: [0], rowMode: "array" });
      expect(extended.rows).toEqual(want.rows);
    });
  });

  it("refuses a denied statement with 42501 and keeps the session usable", async () => {
    await withClient("writer", async (c) => {
      const err = await c.query("drop table items").catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "42501", detail: expect.stringContaining("rule:") });
      expect((err as Error).message).toContain("no destructive DDL");
      const extendedErr = await c.query({ text: "truncate items", values: [] , name: "t1"}).catch((e: unknown) => e);
      expect(extendedErr).toMatchObject({ code: "42501" });
      expect((await c.query("select count(*)::int as n from items")).rows[0]).toEqual({ n: 200 });
    });
    expect((await direct.query("select count(*)::int as n from items")).rows[0]).toEqual({ n: 200 });
  });

  // With an approvals service the statement is held instead (test/approvals.test.ts); this
  // gateway has none, so it must fail closed.
  it("refuses review statements when the gateway has no approvals service", async () => {
    await withClient("writer", async (c) => {
      const err = await c.query("delete from log").catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "42501", hint: "this gateway has no approvals service: statements that need review are refused" });
      expect((err as Error).message).toMatch(/approval required \(approvers: readers\)/);
      expect((await c.query("select 1 as ok")).rows).toEqual([{ ok: 1 }]);
    });
  });

  it("keeps transaction state as PostgreSQL would: a refusal aborts the transaction", async () => {
    await withClient("writer", async (c) => {
      await c.query("begin");
      await c.query("insert into log (msg) values ('in tx')");
      await expect(c.query("drop table log")).rejects.toMatchObject({ code: "42501" });
      await expect(c.query("select 1")).rejects.toMatchObject({ code: "25P02" });
      await c.query("commit");
      expect((await c.query("select count(*)::int as n from log where msg = 'in tx'")).rows[0]).toEqual({ n: 0 });
    });
  });

  it("runs named prepared statements many times", async () => {
    await withClient("writer", async (c) => {
      for (let i = 1; i <= 5; i++) {
        const r = await c.query({ name: "by-id", text: "select name from items where id = $1", values: [i] });
        expect(r.rows).toEqual([{ name: `item ${i}` }]);
      }
    });
  });
});

describe("masking", () => {
  it("masks columns by provenance through aliases, t.*, joins and views", async () => {
    await withClient("reader", async (c) => {
      const plain = await c.query("select p.email as contact, p.ssn, p.name from people p order by id");
      expect(plain.rows[0]).toEqual({ contact: "***********.com", ssn: "[REDACTED]", name: "Ada" });
      const star = await c.query("select t.* from people t order by id");
      expect(JSON.stringify(star.rows)).not.toMatch(/ada@example|123-45-6789/);
      const joined = await c.query("select a.email from people a join people b on a.id = b.id order by a.id");
      expect(JSON.stringify(joined.rows)).not.toContain("ada@example");
      const view = await c.query("select * from people_v order by id");
      expect(JSON.stringify(view.rows)).not.toContain("ada@example");
    });
  });

  it("masks derived columns: expressions, aggregates, JSON and row constructors", async () => {
    await withClient("reader", async (c) => {
      for (const sql of [
        "select upper(email) from people",
        "select string_agg(email, ',') from people",
        "select json_agg(p) from people p",
        "select row(email, ssn) from people",
        "select email || '' as e from people",
      ]) {
        const r = await c.query(sql);
        expect(JSON.stringify(r.rows), sql).not.toMatch(/ada@example|ADA@EXAMPLE|123-45-6789/);
      }
    });
  });

  it("masks detected values and the extended protocol's rows", async () => {
    await withClient("reader", async (c) => {
      const r = await c.query({ text: "select note, email from people where id = $1", values: [1] });
      expect(r.rows[0].note).not.toContain("4111 1111 1111 1111");
      expect(r.rows[0].email).not.toContain("ada@");
    });
  });

  it("refuses COPY of a table with masked columns", async () => {
    await withClient("reader", async (c) => {
      await expect(c.query("copy people to stdout")).rejects.toMatchObject({ code: "42501" });
    });
  });

  it("masks detected values in COPY output, text and CSV, and refuses layouts it cannot read", async () => {
    const copy = async (statement: string): Promise<string> => {
      const { stdout } = await run("psql", ["-X", "-h", "127.0.0.1", "-p", String(gw.proxy.port), "-U", "ci", "-d", "testdb", "-c", statement], {
        env: { ...process.env, PGPASSWORD: await gw.token("reader") },
      });
      return stdout;
    };
    const text = await copy("copy (select id, note from cards order by id) to stdout");
    expect(text).not.toContain("4111 1111 1111 1111");
    expect(text.split("\n").slice(1)).toEqual(['2\ta "quoted"; note', "3\t\\N", ""]);
    expect(text.split("\n")[0]).toMatch(/^1\tpaid with .*, thanks$/);
    const csv = await copy("copy (select id, note from cards order by id) to stdout with (format csv, header, delimiter ';')");
    expect(csv).not.toContain("4111 1111 1111 1111");
    const lines = csv.split("\n");
    expect(lines[0]).toBe("id;note");
    expect(lines[1]).toMatch(/^1;"?paid with [^"]*, thanks"?$/);
    expect(lines.slice(2)).toEqual(['2;"a ""quoted""; note"', "3;", ""]);
    await withClient("reader", async (c) => {
      for (const refused of [
        "copy cards to stdout (format binary)",
        "copy cards to stdout (encoding 'latin1')",
        "copy cards to stdout; copy cards to stdout csv",
      ]) {
        await expect(c.query(refused), refused).rejects.toMatchObject({ code: "42501" });
      }
      expect((await c.query("select count(*)::int as n from cards")).rows[0].n).toBe(3);
    });
  });

  it("ends the session with 54000 past the row limit", async () => {
    await withClient("reader", async (c) => {
      await expect(c.query("select * from items")).rejects.toMatchObject({ code: "54000" });
    });
  });
});

describe("postgres (porsager)", () => {
  it("runs pipelined and prepared queries and survives a refusal", async () => {
    const sql = postgres({ host: "127.0.0.1", port: gw.proxy.port, database: "testdb", username: "ci", password: await gw.token("writer"), max: 1 });
    try {
      const rows = await sql`select id, name from items where id <= ${3} order by id`;
      expect(rows.map((r) => r.name)).toEqual(["item 1", "item 2", "item 3"]);
      await expect(sql`drop table items`).rejects.toMatchObject({ code: "42501" });
      const all = await Promise.all([1, 2, 3].map((i) => sql`select ${i}::int as n`));
      expect(all.map((r) => r[0]?.n)).toEqual([1, 2, 3]);
    } finally {
      await sql.end();
    }
  });
});

describe("psql", () => {
  it("prints what a direct connection prints", async () => {
    const args = ["-X", "-A", "-t", "-c", "select id, name, price from items where id <= 5 order by id"];
    const want = await run("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", DB, ...args]);
    const got = await run("psql", ["-h", "127.0.0.1", "-p", String(gw.proxy.port), "-U", "ci", "-d", "testdb", ...args], {
      env: { ...process.env, PGPASSWORD: await gw.token("writer") },
    });
    expect(got.stdout).toBe(want.stdout);
  });
});

describe("COPY and cancel", () => {
  it("copies in and out through the gateway", async () => {
    const sql = postgres({ host: "127.0.0.1", port: gw.proxy.port, database: "testdb", username: "ci", password: await gw.token("writer"), max: 1 });
    try {
      const writable = await sql`copy log (msg) from stdin`.writable();
      await new Promise<void>((resolve, reject) => {
        writable.on("error", reject);
        writable.end("copied one\ncopied two\n", () => resolve());
      });
      await new Promise((r) => setTimeout(r, 100));
      const readable = await sql`copy (select msg from log where msg like 'copied%' order by id) to stdout`.readable();
      let text = "";
      for await (const chunk of readable) text += String(chunk);
      expect(text).toBe("copied one\ncopied two\n");
    } finally {
      await sql.end();
    }
  });

  it("cancels a running query through the gateway's cancel key", async () => {
    const sql = postgres({ host: "127.0.0.1", port: gw.proxy.port, database: "testdb", username: "ci", password: await gw.token("writer"), max: 1 });
    try {
      const started = Date.now();
      const query = sql`select pg_sleep(20)`;
      setTimeout(() => void query.cancel(), 500);
      await expect(query).rejects.toMatchObject({ code: "57014" });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect((await sql`select 1 as one`)[0]?.one).toBe(1);
    } finally {
      await sql.end();
    }
  });
});

describe("authentication", () => {
  it("authenticates upstream with SCRAM-SHA-256 and md5", async () => {
    const refused = new pg.Client({ ...PG, user: "hoopgate_scram", password: "wrong", database: DB });
    const err = await refused.connect().catch((e: unknown) => e);
    if (!(err instanceof Error)) {
      throw new Error("pg_hba.conf does not ask hoopgate_scram for a password: run scripts/pg-hba-test-roles.sh (as root) first");
    }
    for (const connection of ["scramdb", "md5db"]) {
      const c = proxied(await gw.token("writer"), { database: connection });
      await c.connect();
      const r = await c.query("select current_user as u, count(*)::int as n from items");
      expect(r.rows[0]).toEqual({ u: connection === "scramdb" ? "hoopgate_scram" : "hoopgate_md5", n: 200 });
      await c.end();
    }
  });

  it("does not send an md5 hash over plain TCP unless the connection's require_auth allows it", async () => {
    const c = proxied(await gw.token("writer"), { database: "md5plain" });
    await expect(c.connect()).rejects.toMatchObject({ code: "08001", message: 'cannot connect to "md5plain" upstream' });
  });

  it("refuses bad tokens, unknown connections and identities without a policy", async () => {
    const refused = (name: string) => ({ code: "28000", message: `access to "${name}" refused: no such connection, or this identity may not use it` });
    const cases: [string, string, object][] = [
      ["not-a-jwt", "testdb", { code: "28P01" }],
      [await gw.token("writer", -600), "testdb", { code: "28P01" }],
      [await gw.token("writer"), "nosuchdb", refused("nosuchdb")],
      [await gw.token("stranger"), "testdb", refused("testdb")],
      [await gw.token("reader"), "scramdb", refused("scramdb")],
    ];
    for (const [token, database, error] of cases) {
      const c = proxied(token, { database });
      await expect(c.connect()).rejects.toMatchObject(error);
    }
  });

  it("asks for the token before it says anything about the connection", async () => {
    const firstAnswer = async (database: string): Promise<string> => {
      const socket = connect({ host: "127.0.0.1", port: gw.proxy.port });
      try {
        await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
        socket.write(serialize.startup({ user: "ci", database }));
        const answer = await new Promise<Buffer>((resolve, reject) => socket.once("data", resolve).once("error", reject));
        return answer[0] === 0x52 ? `authentication request ${answer.readInt32BE(5)}` : answer.toString("latin1");
      } finally {
        socket.destroy();
      }
    };
    expect(await firstAnswer("testdb")).toBe("authentication request 3");
    expect(await firstAnswer("prod-payments")).toBe("authentication request 3");
  });

  it("terminates TLS and asks for the token only over TLS", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hoopgate-tls-"));
    await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
      "-subj", "/CN=localhost", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")]);
    const cert = readFileSync(join(dir, "cert.pem"));
    const tlsGw = await startGateway({
      policy, allowCleartextOnLoopback: false,
      tls: { key: readFileSync(join(dir, "key.pem")), cert },
      targets: { testdb: { ...PG, database: DB } },
    });
    try {
      const token = await tlsGw.token("writer");
      const plain = new pg.Client({ host: "127.0.0.1", port: tlsGw.proxy.port, user: "ci", database: "testdb", password: token });
      await expect(plain.connect()).rejects.toMatchObject({ code: "28000" });
      const secure = new pg.Client({ host: "127.0.0.1", port: tlsGw.proxy.port, user: "ci", database: "testdb", password: token,
        ssl: { ca: cert, servername: "localhost" } });
      await secure.connect();
      expect((await secure.query("select count(*)::int as n from items")).rows[0]).toEqual({ n: 200 });
      await secure.end();
      const psql = await run("psql", ["-X", "-A", "-t", "-c", "select 41 + 1", `host=127.0.0.1 port=${tlsGw.proxy.port} user=ci dbname=testdb sslmode=require`],
        { env: { ...process.env, PGPASSWORD: token } });
      expect(psql.stdout.trim()).toBe("42");
    } finally {
      await tlsGw.close();
    }
  });
});

// Detectors over binary-format results through the gateway, against the machine's real
// PostgreSQL: a pg client with `binary: true` (binary results for its parameterized queries) must
// receive no clear value that the same query in text format would mask. The postgres (porsager)
// client always asks for text results (its Bind sends no result format codes), so it is checked
// in text format only.

import pg from "pg";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropDatabase, freshDatabase, PG, startGateway, type Gateway } from "./support/pg-gateway.js";
import { type RawConnection, rawQuery } from "./support/pg-raw-client.js";
import { waitFor } from "./support/wait.js";

const DB = "hoopgate_pgmaskbin";

const policy = (issuer: string): string => `
connection bindb { kind = postgres }
group readers {
  issuer = "${issuer}"
  when   = claims.role == "reader"
}
policy readers-detect {
  subjects    = [group.readers]
  connections = [connection.bindb]
  allow when sql.command in [select]
  mask columns ["accounts.secret"]
  mask detect  [email, credit_card]
}
`;

/** every value the detectors or the column mask must withhold, as a client would print it */
const CLEAR = /ada@example\.com|4111111111111111|4111 1111 1111 1111|vault-1/;
const QUERY = "select * from accounts where id > $1 order by id";
const COLUMNS = ["id", "email", "note", "card_big", "card_num", "amount", "big", "emails", "doc", "blob", "created", "uid", "feeling", "secret"];
const col = (name: string): number => COLUMNS.indexOf(name);

let gw: Gateway;

beforeAll(async () => {
  await freshDatabase(DB);
  const admin = new pg.Client({ ...PG, database: DB });
  await admin.connect();
  await admin.query(`
    create type mood as enum ('happy', 'sad');
    create table accounts (id int4 primary key, email text, note varchar(200), card_big bigint, card_num numeric,
                           amount numeric(12,2), big bigint, emails text[], doc jsonb, blob bytea, created timestamptz,
                           uid uuid, feeling mood, secret text);
    insert into accounts values
      (1, 'ada@example.com', 'paid with 4111 1111 1111 1111', 4111111111111111, 4111111111111111, 12.50, 42,
       array['ada@example.com'], '{"email": "ada@example.com"}', convert_to('ada@example.com', 'UTF8'),
       '2024-05-01 10:00:00+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', 'vault-1'),
      (2, 'nobody', 'nothing here', -7, -0.001, 0, 9223372036854775807, array['plain'], '{"n": 1}', '\\x00ff',
       '2024-05-02 11:30:00.123456+00', 'b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', 'sad', 'vault-2');
  `);
  await admin.end();
  gw = await startGateway({ policy, targets: { bindb: { ...PG, database: DB } } });
});

afterAll(async () => {
  await gw?.close();
  await dropDatabase(DB);
});

const DIRECT: RawConnection = { ...PG, database: DB };
async function viaGateway(): Promise<RawConnection> {
  return { host: "127.0.0.1", port: gw.proxy.port, user: "ci", database: "bindb", password: await gw.token("reader") };
}

/** the rows as exact bytes, every column in `format` */
async function raw(conn: RawConnection, format: 0 | 1): Promise<(Buffer | null)[][]> {
  const result = await rawQuery(conn, QUERY, ["0"], format);
  expect(result.fields.map((f) => [f.name, f.format])).toEqual(COLUMNS.map((name) => [name, format]));
  return result.rows;
}

/** pg with `binary: true` and its own parsers, object rows (pg cannot parse binary values in array mode) */
async function pgBinary(config: pg.ClientConfig): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ ...config, binary: true });
  await client.connect();
  try {
    const result = await client.query(QUERY, [0]);
    expect(result.fields.map((f) => f.format)).toEqual(COLUMNS.map(() => "binary"));
    return result.rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

/** values as a person would read them: bytes as latin1 text */
const printed = (rows: unknown): string => JSON.stringify(rows, (_k, v: unknown) => (isBufferJson(v) ? Buffer.from(v.data).toString("latin1") : v));
function isBufferJson(v: unknown): v is { type: "Buffer"; data: number[] } {
  return typeof v === "object" && v !== null && (v as { type?: unknown }).type === "Buffer";
}

describe("binary-format results in a session with detectors", () => {
  it("pg in binary mode with its own parsers: no clear value reaches the client", async () => {
    // without the gateway the same query shows the values, or this test proves nothing
    expect(printed(await pgBinary(DIRECT))).toMatch(CLEAR);
    const rows = await pgBinary(await viaGateway());
    expect(printed(rows)).not.toMatch(CLEAR);
    expect(rows[0]).toMatchObject({ id: 1, email: "[REDACTED]", note: "paid with [REDACTED]", card_big: null, card_num: null, big: "42", emails: null });
  });

  it("withholds exactly what the rule says, and passes undetectable types byte for byte", async () => {
    const want = await raw(DIRECT, 1);
    const rows = await raw(await viaGateway(), 1);
    const expected = want.map((row) => [...row]);
    const set = (r: number, name: string, value: unknown): void => {
      expected[r]![col(name)] = value;
    };
    set(0, "email", Buffer.from("[REDACTED]"));
    set(0, "note", Buffer.from("paid with [REDACTED]"));
    // a card number in int8 and numeric, an address in jsonb and bytea: NULL
    for (const name of ["card_big", "card_num", "doc", "blob"]) set(0, name, null);
    // arrays and user-defined types (the enum) cannot be read in binary: NULL, detected or not;
    // the column mask gives NULL in binary format
    for (const name of ["emails", "feeling", "secret"]) {
      set(0, name, null);
      set(1, name, null);
    }
    expect(rows).toEqual(expected);
    // int4, timestamptz, uuid and the clean int8/numeric values as the server sent them
    for (const name of ["id", "created", "uid", "amount", "big"]) expect(rows.map((r) => r[col(name)])).toEqual(want.map((r) => r[col(name)]));
  });

  it("the audit records the masked values of binary columns, as the client received them", async () => {
    const before = gw.statements.length;
    const rows = await raw(await viaGateway(), 1);
    await waitFor("the statement's audit", () => gw.statements.slice(before).some((s) => s.text === QUERY && s.output !== undefined));
    const audited = gw.statements.slice(before).find((s) => s.text === QUERY)!.output!;
    expect(audited.columns).toEqual(COLUMNS);
    expect(audited.rows).toEqual(rows.map((row) => row.map((v) => (v === null ? null : `\\x${(v as Buffer).toString("hex")}`))));
    const decoded = audited.rows.map((row) => row.map((v) => (v === null ? null : Buffer.from(v.slice(2), "hex").toString("latin1"))));
    expect(JSON.stringify(decoded)).not.toMatch(CLEAR);
  });

  it("text-format results are unchanged: free text replaced, other types NULL on a detection", async () => {
    const want = await raw(DIRECT, 0);
    const rows = await raw(await viaGateway(), 0);
    const expected = want.map((row) => [...row]);
    expected[0]![col("email")] = Buffer.from("[REDACTED]");
    expected[0]![col("note")] = Buffer.from("paid with [REDACTED]");
    // bytea in text format is hex: the detectors read the bytes it stands for
    for (const name of ["card_big", "card_num", "emails", "doc", "blob"]) expected[0]![col(name)] = null;
    for (const r of [0, 1]) expected[r]![col("secret")] = Buffer.from("[REDACTED]");
    expect(rows).toEqual(expected);
  });

  it("postgres (porsager) gets text results, masked as before", async () => {
    const sql = postgres({ host: "127.0.0.1", port: gw.proxy.port, user: "ci", database: "bindb", password: await gw.token("reader"), max: 1, onnotice: () => undefined });
    try {
      const rows = await sql.unsafe(QUERY, [0]).values();
      expect(JSON.stringify(rows)).not.toMatch(CLEAR);
      expect(rows[0]![col("blob")]).toBeNull();
      expect(rows[0]![col("email")]).toBe("[REDACTED]");
      expect(rows[0]![col("card_big")]).toBeNull();
      expect(rows[1]![col("big")]).toBe("9223372036854775807");
    } finally {
      await sql.end();
    }
  });
});

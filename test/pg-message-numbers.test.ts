// Numbers and positions in the server's errors and warnings through the gateway, against the
// machine's real PostgreSQL with pg: in a session with column masks a statement that turns a
// masked value into a number (a PID, a large object's OID, a character code) or into a position
// (a syntax error inside a type name read from the value) learns nothing from the message; a
// position in the client's own statement stays.

import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import type { StatementAudit } from "../runtime/postgres/context.js";
import { gatewayFixture } from "./support/pg-gateway.js";

const DB = "hoopgate_pgmsgnum";
/** the masked values, also as the numbers a statement makes of them */
const CLEAR = ["ada@example.com", "bob@example.org", "123-45-6789", "987-65-4321", "123456789", "987654321"];

const policy = (issuer: string): string => `
connection numdb { kind = postgres }
group readers {
  issuer = "${issuer}"
  when   = claims.role == "reader"
}
policy readers-masked {
  subjects    = [group.readers]
  connections = [connection.numdb]
  allow when sql.command in [select, prepare, execute, begin, commit, rollback, other]
  mask columns ["people.email"] { with = partial(4) }
  mask columns ["people.ssn"]
}
`;

const fixture = gatewayFixture(DB, "numdb", policy);

interface Outcome {
  error: (Record<string, unknown> & { message: string }) | undefined;
  notices: (Record<string, unknown> & { message: string })[];
  audit: StatementAudit[];
}

/** runs `query` as a reader and gathers what the client and the audit saw */
async function run(query: string | pg.QueryConfig): Promise<Outcome> {
  const client = new pg.Client({ host: "127.0.0.1", port: fixture.gw.proxy.port, user: "ci", database: "numdb", password: await fixture.gw.token("reader") });
  const notices: Outcome["notices"] = [];
  client.on("notice", (n) => notices.push({ ...n, message: n.message }));
  await client.connect();
  const before = fixture.gw.statements.length;
  try {
    const error = await client.query(query).then(
      () => undefined,
      (e: unknown) => ({ ...(e as Record<string, unknown>), message: (e as Error).message }),
    );
    // the session goes on; once it answered, the statement before it is audited
    expect((await client.query("select 1 as ok")).rows).toEqual([{ ok: 1 }]);
    const text = typeof query === "string" ? query : query.text;
    return { error, notices, audit: fixture.gw.statements.slice(before).filter((a) => a.text === text) };
  } finally {
    await client.end();
  }
}

function expectNoClearValue(outcome: Outcome): void {
  const seen = JSON.stringify(outcome);
  for (const value of CLEAR) expect(seen).not.toContain(value);
}

beforeAll(async () => {
  await fixture.direct.query(`
    create table people (id int primary key, name text, email text, ssn text);
    insert into people values (1, 'Ada', 'ada@example.com', '123-45-6789'), (2, 'Bob', 'bob@example.org', '987-65-4321');
  `);
});

describe("a masked value turned into a number in a name-class message", () => {
  it("01000: pg_cancel_backend with a PID made of an SSN never runs (it signals another backend: a stored copy), so no warning prints it", async () => {
    // the scrubber's rule for such a warning is in message-scrub.test.ts; through the gateway the statement is refused first
    for (const sql of [
      "select pg_cancel_backend(replace(ssn, '-', '')::int) from people order by id",
      "select pg_cancel_backend(1000000000 + i * 1000 + ascii(substr(email, i, 1))) from people, generate_series(1, 15) i where id = 1 order by i",
    ]) {
      const out = await run(sql);
      expect(out.error).toMatchObject({ code: "42501", message: expect.stringMatching(/stores values that may come from "people"/) });
      expect(out.notices).toEqual([]);
      expectNoClearValue(out);
    }
  });

  it("54000 and 42704: chr's and lo_get's errors do not print the number made of an SSN, in the client or the audit", async () => {
    const chr = await run("select chr(replace(ssn, '-', '')::int) from people where id = 2");
    expect(chr.error).toMatchObject({ code: "54000", message: "requested character too large for encoding: [REDACTED]" });
    expect(chr.audit.map((a) => a.error)).toEqual(["requested character too large for encoding: [REDACTED]"]);
    expectNoClearValue(chr);
    const lo = await run({ text: "select lo_get(replace(ssn, '-', '')::oid) from people where id = $1", values: [1] });
    expect(lo.error).toMatchObject({ code: "42704", message: "large object [REDACTED] does not exist" });
    expectNoClearValue(lo);
  });
});

describe("the position of an error", () => {
  it("42601 inside a type name read from a value: the position (a character of the SSN) goes", async () => {
    // 'x' repeated (code of the SSN's first character) times, then '@': the syntax error is at that code + 1
    for (const padding of ["", ` /* ${"-".repeat(60)} so that any code is within the statement's text */`]) {
      const out = await run(`select (repeat('x', ascii(substr(ssn, 1, 1))) || '@')::regtype from people where id = 1${padding}`);
      // the "@" is in the value (the statement holds it only in a string literal): it goes too
      expect(out.error).toMatchObject({ code: "42601", message: 'syntax error at or near "[REDACTED]"', position: undefined });
      expectNoClearValue(out);
    }
  });

  it("a position in the client's own statement stays (simple and extended protocol, counted in characters)", async () => {
    const cases: [string | pg.QueryConfig, string, string][] = [
      ["select id from nosuch", "42P01", "16"],
      [{ text: "select id from nosuch where id = $1", values: [1] }, "42P01", "16"],
      ["select * from people where name = 1", "42883", "33"],
      ["select 'é€😀' from nosuch", "42P01", "19"],
    ];
    for (const [query, code, position] of cases) {
      const out = await run(query);
      expect(out.error, JSON.stringify(query)).toMatchObject({ code, position });
    }
    // the number it names goes (numbers go in every class); the position still points at it
    const order = await run("select name from people order by 5");
    expect(order.error).toMatchObject({ code: "42P10", message: "ORDER BY position [REDACTED] is not in select list", position: "34" });
  });
});

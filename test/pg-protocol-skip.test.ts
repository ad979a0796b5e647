// After an error in the extended protocol the server skips every message until Sync — a simple
// Query too, which then gets no answer. The gateway must not wait for one: pairing the Sync's
// ReadyForQuery with that Query put every later result one statement behind, masked with the
// previous statement's facts (a red-team finding: masked columns came back in clear).

import { beforeAll, describe, expect, it } from "vitest";
import { gatewayFixture } from "./support/pg-gateway.js";
import { errorFields, RawSession, rowsOf, serialize } from "./support/pg-raw-session.js";

const DB = "hoopgate_pgprotoskip";
const policy = (issuer: string): string => `
connection db { kind = postgres }
group masked {
  issuer = "${issuer}"
  when   = claims.role == "masked"
}
policy masked-work {
  subjects    = [group.masked]
  connections = [connection.db]
  allow when sql.command in [select, begin, commit, rollback]
  mask columns ["people.email", "people.ssn"]
}
`;
const CLEAR = /123-45-6789|alice@example|ALICE@EXAMPLE/;
const MASKED_QUERY = "select ssn || '' as s, upper(email) as e from people";

const fixture = gatewayFixture(DB, "db", policy);

beforeAll(async () => {
  await fixture.direct.query("create table people (id int primary key, name text, email text, ssn text); insert into people values (1, 'Ann', 'alice@example.com', '123-45-6789')");
});

describe("messages the server skips after an extended-protocol error", () => {
  it("a Query sent before the Sync gets no answer, and later results stay paired with their own statements", async () => {
    const raw = await RawSession.open({ host: "127.0.0.1", port: fixture.gw.proxy.port, user: "ci", database: "db", password: await fixture.gw.token("masked") });
    try {
      raw.send(serialize.parse({ name: "", text: "select * from no_such_table" }), serialize.flush());
      const error = await raw.next();
      expect(error.type === "E" ? errorFields(error).C : error.type).toBe("42P01");
      // skipped by the server: no answer
      raw.send(serialize.query("select 1"));
      const sync = await raw.run(serialize.sync());
      expect(sync.map((m) => m.type)).toEqual(["Z"]);
      const fails = await raw.run(serialize.query("select 1/0"));
      expect(fails.map((m) => m.type)).toEqual(["E", "Z"]);
      for (let i = 0; i < 3; i++) {
        const rows = rowsOf(await raw.run(serialize.query(MASKED_QUERY)));
        expect(rows).toEqual([["[REDACTED]", "[REDACTED]"]]);
        expect(JSON.stringify(rows)).not.toMatch(CLEAR);
      }
      expect(rowsOf(await raw.run(serialize.query("select 41 + 1")))).toEqual([["42"]]);
    } finally {
      raw.close();
    }
  });

  it("records what ran, whether the skipped Executes were sent before or after the error came back", async () => {
    const raw = await RawSession.open({ host: "127.0.0.1", port: fixture.gw.proxy.port, user: "ci", database: "db", password: await fixture.gw.token("masked") });
    try {
      const from = fixture.gw.statements.length;
      // the Execute that fails is recorded; those the server skipped after it are not, in one write or after the error
      await raw.run(serialize.parse({ text: "select 1/(id - 1) from people" }), serialize.bind({}), serialize.execute({}), serialize.bind({}), serialize.execute({}), serialize.sync());
      raw.send(serialize.parse({ text: "select 2/(id - 1) from people" }), serialize.bind({}), serialize.execute({}), serialize.flush());
      expect((await raw.next()).type).toBe("1");
      const seen = [await raw.next(), await raw.next()];
      expect(seen.map((m) => m.type)).toEqual(["2", "E"]);
      await raw.run(serialize.bind({}), serialize.execute({}), serialize.sync());
      // a Bind that fails (1/0 folded when the named statement is planned): that statement, once, either way
      await raw.run(serialize.parse({ name: "a", text: "select 3/0" }), serialize.bind({ statement: "a" }), serialize.execute({}), serialize.sync());
      raw.send(serialize.parse({ name: "b", text: "select 4/0" }), serialize.bind({ statement: "b" }), serialize.flush());
      expect([(await raw.next()).type, (await raw.next()).type]).toEqual(["1", "E"]);
      await raw.run(serialize.execute({}), serialize.sync());
      expect(fixture.gw.statements.slice(from).map((r) => [r.text, r.error])).toEqual([
        ["select 1/(id - 1) from people", "division by zero"],
        ["select 2/(id - 1) from people", "division by zero"],
        ["select 3/0", "division by zero"],
        ["select 4/0", "division by zero"],
      ]);
    } finally {
      raw.close();
    }
  });
});

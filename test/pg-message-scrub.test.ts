// Errors and notices through the gateway, against the machine's real PostgreSQL with pg: in a
// session with masks no masked value reaches the client (err.message, detail, hint, where, …) or
// the audit through the upstream's ErrorResponse/NoticeResponse; harmless errors keep their text.

import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import type { StatementAudit } from "../runtime/postgres/context.js";
import { FUNCTION_OUTPUT, NOTIFICATION_PAYLOAD, REDACTED_FIELD } from "../runtime/postgres/masks/message-scrub.js";
import { gatewayFixture, PG } from "./support/pg-gateway.js";

const DB = "hoopgate_pgmsgscrub";
const CLEAR = ["123-45-6789", "234-56-7890", "alice@example.com", "bob@example.org", "swordfish", "marlin"];

const policy = (issuer: string): string => `
connection testdb { kind = postgres }
group masked {
  issuer = "${issuer}"
  when   = claims.role == "masked"
}
group detecting {
  issuer = "${issuer}"
  when   = claims.role == "detecting"
}
group plain {
  issuer = "${issuer}"
  when   = claims.role == "plain"
}

policy masked-work {
  subjects    = [group.masked]
  connections = [connection.testdb]
  deny  when sql.command == drop { reason = "no drop through the gateway" }
  allow when sql.command in [select, insert, update, begin, commit, rollback, do, listen]
  mask columns ["people.email", "people.ssn", "people.secret"]
}

policy detecting-work {
  subjects    = [group.detecting]
  connections = [connection.testdb]
  allow when sql.command in [select, insert, update, listen]
  mask detect [us_ssn, email]
}

policy plain-work {
  subjects    = [group.plain]
  connections = [connection.testdb]
  allow when sql.command in [select, listen]
}
`;

const fixture = gatewayFixture(DB, "testdb", policy);

interface Outcome {
  /** the error the client received, every field pg exposes */
  error: Record<string, unknown> | undefined;
  notices: Record<string, unknown>[];
  rows: unknown[];
  /** the audit records of what ran */
  audit: StatementAudit[];
}

/** Runs `query` in a session of `role` and gathers what the client and the audit saw. */
async function run(role: string, query: string | pg.QueryConfig): Promise<Outcome> {
  const client = new pg.Client({ host: "127.0.0.1", port: fixture.gw.proxy.port, user: "ci", database: "testdb", password: await fixture.gw.token(role) });
  const notices: Record<string, unknown>[] = [];
  client.on("notice", (n) => notices.push({ ...n, message: n.message }));
  await client.connect();
  const before = fixture.gw.statements.length;
  try {
    const result = await client.query(query).then((r) => ({ rows: r.rows, error: undefined }), (e: unknown) => ({ rows: [], error: e as Record<string, unknown> }));
    const error = result.error === undefined ? undefined : { ...result.error, message: (result.error as unknown as Error).message };
    // the session goes on after the error; once it answered, the statement before it is audited
    expect((await client.query("select 1 as ok")).rows).toEqual([{ ok: 1 }]);
    const text = typeof query === "string" ? query : query.text;
    return { error, notices, rows: result.rows, audit: fixture.gw.statements.slice(before).filter((a) => a.text === text) };
  } finally {
    await client.end();
  }
}

/** no masked value in anything the client or the audit saw */
function expectNoClearValue(outcome: Outcome): void {
  const seen = JSON.stringify([outcome.error, outcome.notices, outcome.rows, outcome.audit]);
  for (const value of CLEAR) expect(seen).not.toContain(value);
}

beforeAll(async () => {
  await fixture.direct.query(`
    create table people (id int primary key, name text, email text unique, ssn text, secret text);
    insert into people values (1, 'Ada', 'alice@example.com', '123-45-6789', 'swordfish'),
                              (2, 'Bob', 'bob@example.org', '234-56-7890', 'marlin');
    create table short_ssn (id int, ssn text check (length(ssn) < 5));
    create function leak(t text) returns int language plpgsql as $$ begin raise notice 'value %', t; return 1; end $$;
    create function shout(t text) returns int language plpgsql as $$
      begin raise exception using message = t, detail = 'detail ' || t, hint = 'hint ' || t, column = t; end $$;
    create function dyn(t text) returns int language plpgsql as $$
      declare r int; begin execute 'select ' || quote_literal(t) || '::int' into r; return r; end $$;
    create function dynzero(t text) returns int language plpgsql as $$
      declare r int; begin execute 'select length(' || quote_literal(t) || ') / 0' into r; return r; end $$;
  `);
});

describe("a session with column masks", () => {
  it("an input error quotes no masked value, in the simple and the extended protocol", async () => {
    for (const query of ["select ssn::int from people", { text: "select ssn::int from people where id = $1", values: [1] }]) {
      const out = await run("masked", query);
      expect(out.error).toMatchObject({ code: "22P02", message: 'invalid input syntax for type integer: "[REDACTED]"' });
      expect(out.audit.map((a) => a.error)).toEqual(['invalid input syntax for type integer: "[REDACTED]"']);
      expectNoClearValue(out);
    }
  });

  it("a unique violation's key and a check violation's row lose their values, keep the constraint and columns", async () => {
    // the values come from the client's own expressions: copying a masked column is refused (pg-masking-stores.test.ts)
    const unique = await run("masked", "update people set email = reverse('moc.elpmaxe@ecila') where id = 2");
    expect(unique.error).toMatchObject({
      code: "23505", message: 'duplicate key value violates unique constraint "people_email_key"',
      detail: "Key (email)=([REDACTED]) already exists.", constraint: "people_email_key", table: "people",
    });
    expectNoClearValue(unique);
    const check = await run("masked", "insert into short_ssn values (1, reverse('9876-54-321'))");
    expect(check.error).toMatchObject({ code: "23514", message: 'new row for relation "short_ssn" violates check constraint "short_ssn_ssn_check"', detail: "Failing row contains ([REDACTED])." });
    expectNoClearValue(check);
  });

  it("a function's RAISE NOTICE, RAISE EXCEPTION and a DO block's notice are redacted whole; where they ran stays", async () => {
    const notice = await run("masked", "select leak(ssn) from people order by id");
    expect(notice.notices).toHaveLength(2);
    for (const n of notice.notices) expect(n).toMatchObject({ severity: "NOTICE", code: "00000", message: FUNCTION_OUTPUT, where: "PL/pgSQL function leak(text) line 1 at RAISE" });
    expectNoClearValue(notice);
    const raised = await run("masked", "select shout(ssn) from people");
    expect(raised.error).toMatchObject({ code: "P0001", message: FUNCTION_OUTPUT, detail: undefined, hint: undefined, column: undefined });
    expect(raised.audit.map((a) => a.error)).toEqual([FUNCTION_OUTPUT]);
    expectNoClearValue(raised);
    const block = await run("masked", "do $$ begin raise notice 'ssn %', (select ssn from people where id = 1); end $$");
    expect(block.notices).toMatchObject([{ message: FUNCTION_OUTPUT, where: "PL/pgSQL function inline_code_block line 1 at RAISE" }]);
    expectNoClearValue(block);
  });

  it("a dynamic statement (internal query or context line), a JSON excerpt or a value read as a name is redacted", async () => {
    const dynamic = await run("masked", "select dyn(ssn) from people");
    expect(dynamic.error).toMatchObject({
      code: "22P02", internalQuery: REDACTED_FIELD, internalPosition: undefined, where: "PL/pgSQL function dyn(text) line 2 at EXECUTE",
    });
    expectNoClearValue(dynamic);
    const context = await run("masked", "select dynzero(ssn) from people");
    expect(context.error).toMatchObject({ code: "22012", message: "division by zero", where: `${REDACTED_FIELD}\nPL/pgSQL function dynzero(text) line 2 at EXECUTE` });
    expectNoClearValue(context);
    const json = await run("masked", "select ssn::json from people");
    expect(json.error).toMatchObject({ code: "22P02", message: "invalid input syntax for type json", detail: REDACTED_FIELD, where: REDACTED_FIELD });
    expectNoClearValue(json);
    const regclass = await run("masked", "select secret::regclass from people");
    expect(regclass.error).toMatchObject({ code: "42P01", message: 'relation "[REDACTED]" does not exist' });
    expectNoClearValue(regclass);
  });

  it("harmless errors keep their text, in the client and the audit", async () => {
    const cases: [string | pg.QueryConfig, string, string][] = [
      ["select * from nosuch", "42P01", 'relation "nosuch" does not exist'],
      [{ text: "select * from nosuch where id = $1", values: [1] }, "42P01", 'relation "nosuch" does not exist'],
      ["select nme from people", "42703", 'column "nme" does not exist'],
      ["select 1/0 from people where ssn = '123-45-6789'", "22012", "division by zero"],
    ];
    for (const [query, code, message] of cases) {
      const out = await run("masked", query);
      expect(out.error, message).toMatchObject({ code, message });
      expect(out.audit.map((a) => a.error), message).toEqual([message]);
    }
    const missing = await run("masked", "select id from nosuch");
    expect(missing.error).toMatchObject({ position: "16" });
  });

  it("the gateway's own refusals are not scrubbed", async () => {
    const denied = await run("masked", "drop table people");
    expect(denied.error).toMatchObject({ code: "42501", message: "statement denied: no drop through the gateway", detail: "rule: masked-work/deny#1" });
    // the gateway parses every statement: a syntax error never reaches the upstream
    const syntax = await run("masked", "selec 1");
    expect(syntax.error).toMatchObject({ code: "42501", message: 'statement denied: SQL does not parse: syntax error at or near "selec"' });
  });
});

describe("a session with detectors only", () => {
  it("replaces what the detectors find, in notices, details and messages, and leaves the rest", async () => {
    const notice = await run("detecting", "select leak(ssn) from people order by id");
    expect(notice.notices.map((n) => n.message)).toEqual(["value [REDACTED]", "value [REDACTED]"]);
    const unique = await run("detecting", "update people set email = (select email from people where id = 1) where id = 2");
    expect(unique.error).toMatchObject({ code: "23505", detail: "Key (email)=([REDACTED]) already exists." });
    const input = await run("detecting", "select ssn::int from people");
    expect(input.error).toMatchObject({ message: 'invalid input syntax for type integer: "[REDACTED]"' });
    for (const out of [notice, unique, input]) expectNoClearValue(out);
    const missing = await run("detecting", "select * from nosuch");
    expect(missing.error).toMatchObject({ code: "42P01", message: 'relation "nosuch" does not exist' });
  });
});

/** the payloads a session of `role` listening on a channel receives when another session notifies it with each SSN */
async function notified(role: string): Promise<string[]> {
  const client = new pg.Client({ host: "127.0.0.1", port: fixture.gw.proxy.port, user: "ci", database: "testdb", password: await fixture.gw.token(role) });
  const payloads: string[] = [];
  await client.connect();
  const sender = new pg.Client({ ...PG, database: DB });
  await sender.connect();
  try {
    const channel = `scrub_${role}`;
    const arrived = new Promise<void>((resolve) => client.on("notification", (n) => payloads.push(n.payload ?? "") === 2 && resolve()));
    await client.query(`listen ${channel}`);
    await sender.query(`select pg_notify('${channel}', 'value ' || ssn) from people order by id`);
    await arrived;
    return payloads;
  } finally {
    await sender.end();
    await client.end();
  }
}

describe("notifications (pg_notify from any session to a channel this one listens on)", () => {
  it("with column masks the payload goes whole; with detectors only they run over it; without masks it is as sent", async () => {
    expect(await notified("masked")).toEqual([NOTIFICATION_PAYLOAD, NOTIFICATION_PAYLOAD]);
    expect(await notified("detecting")).toEqual(["value [REDACTED]", "value [REDACTED]"]);
    expect(await notified("plain")).toEqual(["value 123-45-6789", "value 234-56-7890"]);
  });
});

describe("a session without masks", () => {
  it("gets the server's messages as they are", async () => {
    const out = await run("plain", "select ssn::int from people");
    expect(out.error).toMatchObject({ code: "22P02", message: 'invalid input syntax for type integer: "123-45-6789"' });
  });
});

// Stored copies (docs/masking.md): a statement that keeps values beyond its result — rows it
// writes, a table made from a query, set_config, a large object, a file — must not copy masked
// columns where a later statement reads them without the mask. Through the gateway against the
// machine's real PostgreSQL; every refusal is checked on the server too (nothing was stored).

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionMasks } from "../runtime/engine/types.js";
import { extractSqlFacts, loadSqlParser } from "../runtime/facts/sql/index.js";
import { Catalog } from "../runtime/postgres/masks/catalog.js";
import type { StatementInfo } from "../runtime/postgres/expectations.js";
import { ColumnMasks } from "../runtime/postgres/masks/mask-columns.js";
import { gatewayFixture, PG } from "./support/pg-gateway.js";

const DB = "hoopgate_pgmaskstores";
const SSN = "123-45-6789";

const policy = (issuer: string): string => `
connection storedb { kind = postgres }
group agents {
  issuer = "${issuer}"
  when   = claims.role == "agent"
}
policy agents-masked {
  subjects    = [group.agents]
  connections = [connection.storedb]
  allow when sql.command in [select, insert, update, delete, merge, create, copy, prepare, execute, begin, commit, rollback]
  mask columns ["people.ssn"]
  mask columns ["people.email"] { with = partial(4) }
}
`;

const fixture = gatewayFixture(DB, "storedb", policy);
let agent: pg.Client;

beforeAll(async () => {
  await fixture.direct.query(`
    create table people (id int primary key, name text, email text, ssn text);
    insert into people values (1, 'Ann', 'ann@example.com', '${SSN}'), (2, 'Bob', 'bob@example.com', '987-65-4321');
    create table notes (id serial primary key, body text);
    create table tickets (id int primary key, person_id int, status text);
    insert into tickets values (10, 1, 'open'), (11, 2, 'open');
    create view people_v as select * from people;
    create function leak() returns text language sql stable as $$ select ssn from people limit 1 $$;
  `);
  agent = new pg.Client({ host: "127.0.0.1", port: fixture.gw.proxy.port, user: "ci", database: "storedb", password: await fixture.gw.token("agent") });
  await agent.connect();
});

// runs before the fixture's afterAll (after hooks run in reverse): the agent's session ends before the gateway
afterAll(async () => {
  await agent?.end();
});

/** nothing of people.ssn or people.email outside people, on the server itself */
async function expectNoCopies(): Promise<void> {
  const { rows } = await fixture.direct.query<{ body: string }>("select body from notes");
  expect(JSON.stringify(rows)).not.toMatch(/123-45|987-65|@example/);
  const tables = await fixture.direct.query("select relname from pg_class where relname in ('tt', 't2', 'copied')");
  expect(tables.rows).toEqual([]);
  const objects = await fixture.direct.query("select count(*)::int as n from pg_largeobject_metadata");
  expect(objects.rows[0].n).toBe(0);
}

async function refused(client: pg.Client, sql: string, name?: string): Promise<string> {
  const error = await client.query(name === undefined ? sql : { name, text: sql }).then(() => null, (e: { code?: string; message: string }) => e);
  expect(error, sql).not.toBeNull();
  expect(error!.code, sql).toBe("42501");
  expect(error!.message, sql).toMatch(/stores values that may come from/);
  return error!.message;
}

describe("statements copying masked columns are refused, and nothing is stored", () => {
  it.each([
    ["create table as", "create temp table tt as select ssn from people", /"people", which has masked columns/],
    ["select into", "select ssn into temp t2 from people", /"people"/],
    ["insert … select", "insert into notes (body) select ssn from people", /"people"/],
    ["insert … values (subquery)", "insert into notes (body) values ((select email from people limit 1))", /"people"/],
    ["insert through a view", "insert into notes (body) select ssn from people_v", /"people" \(through a view\)/],
    ["insert from a CTE", "with d as (select ssn from people) insert into notes (body) select ssn from d", /"people"/],
    ["insert from a user function", "insert into notes (body) values (leak())", /code that is not built in/],
    ["update from a masked column of the same row", "update people set name = ssn where id = 1", /the masked column people\.ssn/],
    ["update with the whole row", "update people p set name = p::text where id = 1", /a whole row of "people"/],
    ["update through a view it writes", "update people_v set name = email where id = 1", /"people", which the written view "people_v" reads/],
    ["update … from", "update tickets set status = p.ssn from people p where p.id = tickets.person_id", /"people"/],
    ["merge", "merge into notes n using people p on n.id = p.id when not matched then insert (body) values (p.ssn)", /"people"/],
    ["a deleted row handed on", "with d as (delete from people where id = 2 returning ssn) insert into notes (body) select ssn from d", /a whole row of "people"/],
    ["set_config", "select set_config('my.x', (select ssn from people limit 1), false)", /"people"/],
    ["a large object", "select lo_from_bytea(0, convert_to(ssn, 'UTF8')) from people", /"people"/],
    ["an advisory lock's key", "select pg_advisory_lock(ascii(substr(ssn, 1, 1))) from people", /"people"/],
    ["an advisory lock released by key", "select pg_advisory_unlock(1000 + ascii(substr(ssn, 1, 1))) from people", /"people"/],
    ["a sequence advanced as often as a value says", "select nextval('notes_id_seq') from people p, generate_series(1, ascii(substr(p.ssn, 1, 1))) where p.id = 1", /"people"/],
    ["a large object whose OID is the value", "select lo_create(100000 + substr(replace(ssn, '-', ''), 1, 5)::int) from people where id = 1", /"people"/],
    ["the random seed", "select setseed(ascii(substr(ssn, 1, 1)) / 1000.0) from people where id = 1", /"people"/],
    ["a storing builtin in the WHERE of a write to the masked table", "delete from people where id = 1 and set_config('my.d', ssn, false) is null", /a whole row of "people"/],
    ["a storing builtin in the RETURNING of a write to the masked table", "update people set name = name where id = 1 returning set_config('my.r', ssn, false)", /a whole row of "people"/],
    ["a storing builtin in MERGE's ON", "merge into people p using (select 1 as id) s on p.id = s.id and set_config('my.m', p.ssn, false) is not null when matched then update set name = 'Ann'", /a whole row of "people"/],
    ["stored for later", "prepare copy_later as insert into notes (body) select ssn from people", /"people"/],
    ["one statement among several", "insert into notes (body) values ('harmless'); insert into notes (body) select ssn from people", /"people"/],
  ])("%s", async (_, sql, reason) => {
    expect(await refused(agent, sql)).toMatch(reason);
    // the session goes on
    expect((await agent.query("select 1 as ok")).rows).toEqual([{ ok: 1 }]);
    await expectNoCopies();
    const state = await agent.query("select current_setting('my.d', true) as d, current_setting('my.r', true) as r, current_setting('my.m', true) as m, (select count(*)::int from pg_locks l join pg_database d on d.oid = l.database where l.locktype = 'advisory' and d.datname = current_database()) as locks");
    expect(JSON.stringify(state.rows)).not.toMatch(/123-45|987-65/);
    expect(state.rows[0].locks).toBe(0);
    expect((await fixture.direct.query("select last_value, is_called from notes_id_seq")).rows[0].is_called).toBe(false);
  });

  it("COPY to or from a server file or program is refused in a session with column masks", async () => {
    for (const sql of [
      "copy (select * from people_v) to '/tmp/hoopgate-stores-test.txt'",
      "copy notes (body) from program 'echo hello'",
      "copy notes (body) from '/etc/hostname'",
    ]) {
      await expect(agent.query(sql)).rejects.toMatchObject({ code: "42501", message: expect.stringMatching(/server file or program/) });
    }
    await expectNoCopies();
  });

  it("the same statements are refused at Parse in the extended protocol", async () => {
    await refused(agent, "insert into notes (body) select ssn from people", "ext_insert");
    await refused(agent, "select set_config('my.x', ssn, false) from people where id = $1", "ext_config");
    await refused(agent, "update people_v set name = email where id = 1", "ext_view");
    await expectNoCopies();
    const setting = await agent.query("select current_setting('my.x', true) as v");
    expect(setting.rows[0].v ?? "").not.toContain("123-45");
  });

  it("inside a transaction, which then fails like any failed statement", async () => {
    await agent.query("begin");
    await agent.query("insert into notes (body) values ('in tx')");
    await refused(agent, "insert into notes (body) select ssn from people");
    await expect(agent.query("select 1")).rejects.toThrow(/current transaction is aborted/);
    await agent.query("rollback");
    await expectNoCopies();
  });
});

describe("writes that copy no masked value run", () => {
  it("literal values, unmasked sources, and filters on masked columns", async () => {
    await agent.query("insert into notes (body) values ('called the customer')");
    await agent.query("update people set name = 'Ann Lee' where id = 1");
    await agent.query("update people set ssn = '000-00-0000' where id = 2");
    await agent.query(`update tickets set status = 'closed' where person_id in (select id from people where ssn = '${SSN}')`);
    await agent.query("insert into notes (body) select status from tickets where id = 10");
    await agent.query("select set_config('my.label', 'literal', false)");
    const { rows } = await fixture.direct.query("select (select string_agg(body, ',' order by id) from notes) as notes, (select status from tickets where id = 10) as status, (select name from people where id = 1) as name");
    expect(rows).toEqual([{ notes: "called the customer,closed", status: "closed", name: "Ann Lee" }]);
    await fixture.direct.query("update people set ssn = '987-65-4321' where id = 2");
  });

  it("RETURNING of the write itself comes back masked", async () => {
    const { rows } = await agent.query({ text: "update people set name = 'Ann' where id = 1 returning ssn, email", rowMode: "array" });
    expect(JSON.stringify(rows)).not.toMatch(/123-45|ann@example/);
  });
});

describe("the catalog's verdict on a statement is reused without holding it", () => {
  it("for every run of the statement and its literal variants, within the catalog's TTL", async () => {
    await loadSqlParser();
    const masks: SessionMasks = { columns: new Map([["people.ssn", { kind: "redact" }]]), detectors: new Map() } as unknown as SessionMasks;
    const catalog = new Catalog({ ...PG, database: DB });
    const columnMasks = new ColumnMasks(masks, catalog);
    const info = (text: string): StatementInfo => {
      const facts = extractSqlFacts(text);
      if (!facts.ok) throw new Error(facts.error);
      const statements = facts.statements.map((s) => ({
        command: s.command, tables: s.tables, functions: s.functions, effect: "allow" as const, rules: [], reason: "",
        ...(s.stores !== undefined && { stores: s.stores }), ...(s.indirect !== undefined && { indirect: s.indirect }),
      }));
      return { text, decision: { effect: "allow", reason: "", rules: [], approvers: [], statements } };
    };
    try {
      const leak = info("update people_v set name = email where id = 1");
      expect(columnMasks.knownCatalogRefusal(leak)).toBeUndefined();
      const reason = await columnMasks.catalogRefusal(leak);
      expect(reason).toMatch(/people_v/);
      expect(columnMasks.knownCatalogRefusal(info("update people_v set name = email where id = 2"))).toBe(reason);
      const fine = info("update notes set body = upper(body) where id = 1");
      expect(await columnMasks.catalogRefusal(fine)).toBeNull();
      expect(columnMasks.knownCatalogRefusal(info("update notes set body = upper(body) where id = 7"))).toBeNull();
    } finally {
      await catalog.close();
    }
  });
});

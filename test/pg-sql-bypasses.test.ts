// Statements whose SQL facts misdescribed what the server does, through the real gateway against
// the real server: each test checks the server-side effect the bypass had (a smuggled DROP, a
// changed setting, rows rewritten or deleted, data read) does not happen.

import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SCALAR_BUILTINS, SET_RETURNING_BUILTINS } from "../runtime/facts/sql/set-returning.js";
import { gatewayFixture, PG } from "./support/pg-gateway.js";
import { Bind, Execute, Parse, Query, Sync, trace, Wire } from "./support/pg-wire.js";

const DB = "hoopgate_fixsql_bypasses";

/** one SELECT to the gateway's parser; with standard_conforming_strings off, a SELECT, a DROP and a SET to the server */
const SMUGGLED = "SELECT 'a\\''; DROP TABLE victims; SET standard_conforming_strings = on; --'";

const policy = (issuer: string): string => `
connection fixdb { kind = postgres }
group apps {
  issuer = "${issuer}"
  when   = claims.role == "app"
}
group readers {
  issuer = "${issuer}"
  when   = claims.role == "reader"
}
group support {
  issuer = "${issuer}"
  when   = claims.role == "support"
}
group inserters {
  issuer = "${issuer}"
  when   = claims.role == "inserter"
}
group oncall {
  issuer = "${issuer}"
  when   = claims.role == "oncall"
}
group builders {
  issuer = "${issuer}"
  when   = claims.role == "builder"
}

# DML with a WHERE, SET allowed by the policy (what the facts refuse is refused whatever it says)
policy app-rw {
  subjects    = [group.apps]
  connections = [connection.fixdb]
  deny   when sql.command in [drop, truncate, alter, create, grant, revoke, do] { reason = "no DDL" }
  deny   when sql.tables has_any ["payment_methods", "billing.cards"] { reason = "payment data" }
  review when sql.command in [update, delete, merge] and not sql.has_where { approvers = [group.oncall] }
  allow  when sql.command in [select, insert, update, delete, merge, set, show, begin, commit, rollback]
}

policy reporting {
  subjects    = [group.readers]
  connections = [connection.fixdb]
  deny  when sql.tables has_any ["pg_catalog.pg_authid", "pg_catalog.pg_shadow"] { reason = "password hashes" }
  deny  when sql.functions has_any ["pg_read_file", "pg_ls_dir", "set_config"] { reason = "no server files, no settings" }
  allow when sql.command in [select, show]
}

policy support-reads-customers {
  subjects    = [group.support]
  connections = [connection.fixdb]
  allow when sql.command in [select, show] and sql.tables within ["customers", "public.customers"]
}

# may create objects, never reach server files: the functions DDL binds count as calls
policy builders-no-files {
  subjects    = [group.builders]
  connections = [connection.fixdb]
  deny  when sql.functions has_any ["pg_read_file", "pg_read_binary_file", "lo_import", "lo_export"] { reason = "no server files" }
  allow when sql.command in [select, create]
}

policy insert-only {
  subjects    = [group.inserters]
  connections = [connection.fixdb]
  allow when sql.command in [select, insert]
}
`;

// registered before the fixture, so it runs after the fixture's afterAll: the role goes once the database granting to it is dropped
afterAll(async () => {
  const admin = new pg.Client({ ...PG, database: "postgres" });
  await admin.connect();
  await admin.query("drop role if exists hoopgate_fixsql_billing");
  await admin.end();
});

const fixture = gatewayFixture(DB, "fixdb", policy);

beforeAll(async () => {
  await fixture.direct.query(`do $$ begin if not exists (select from pg_roles where rolname = 'hoopgate_fixsql_billing') then create role hoopgate_fixsql_billing; end if; end $$`);
});

beforeEach(async () => {
  await fixture.direct.query(`
    drop table if exists customers, payment_methods, victims cascade;
    drop schema if exists hoopgate_fixsql_billing cascade;
    create table customers (id int primary key, name text);
    insert into customers values (1, 'Ada');
    create table payment_methods (id int, card text);
    insert into payment_methods values (1, '4111111111111111');
    create table victims (id int primary key, v text);
    insert into victims select g, 'row ' || g from generate_series(1, 5) g;
    -- "$user" in the default search_path: after SET ROLE, unqualified names resolve here first
    create schema hoopgate_fixsql_billing;
    create table hoopgate_fixsql_billing.victims (id int, pan text);
    insert into hoopgate_fixsql_billing.victims values (1, 'PAN-SECRET-1');
    grant usage on schema hoopgate_fixsql_billing to hoopgate_fixsql_billing;
    grant select on hoopgate_fixsql_billing.victims to hoopgate_fixsql_billing;
  `);
});

async function session(role: string): Promise<Wire> {
  return Wire.open(fixture.gw.proxy.port, "fixdb", await fixture.gw.token(role));
}

/** runs each text as a simple Query in one session; the trace of each */
async function run(role: string, ...texts: string[]): Promise<string[]> {
  const w = await session(role);
  try {
    const out: string[] = [];
    for (const text of texts) {
      w.send(Query(text));
      out.push(trace(await w.untilReady()).join(" | "));
    }
    return out;
  } finally {
    w.close();
  }
}

/** an extended-protocol statement with no Sync, the smuggling Query right behind it, then a Sync */
async function pipelined(role: string, first: string): Promise<string> {
  const w = await session(role);
  try {
    w.send(Parse(first), Bind(), Execute(), Query(SMUGGLED), Sync());
    const out = trace(await w.untilReady()).join(" | ");
    w.send(Query("SHOW standard_conforming_strings"));
    return `${out} || ${trace(await w.untilReady()).join(" | ")}`;
  } finally {
    w.close();
  }
}

async function victims(): Promise<string[]> {
  const exists = (await fixture.direct.query("select to_regclass('public.victims') is not null as e")).rows[0].e as boolean;
  if (!exists) return ["<dropped>"];
  return (await fixture.direct.query("select id || ':' || v as r from victims order by id")).rows.map((r: { r: string }) => r.r);
}

const UNTOUCHED = ["1:row 1", "2:row 2", "3:row 3", "4:row 4", "5:row 5"];

describe("settings changed where the facts do not look", () => {
  it("refuses UPDATE pg_settings, so a Query pipelined behind it is lexed as the gateway read it", async () => {
    const out = await pipelined("app", "UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'");
    expect(out).toMatch(/E:42501 statement denied: writing to pg_settings is not allowed through the gateway/);
    expect(out).toMatch(/\|\| .*D:on/);
    expect(await victims()).toEqual(UNTOUCHED);
  });

  it("refuses UPDATE pg_settings of search_path over the simple protocol, and a view over pg_settings", async () => {
    const [set, view, show] = await run(
      "app",
      "UPDATE pg_settings SET setting = 'hoopgate_fixsql_billing, public' WHERE name = 'search_path'",
      "CREATE TEMP VIEW s AS SELECT name, setting FROM pg_settings",
      "SHOW search_path",
    );
    expect(set).toMatch(/E:42501 statement denied: writing to pg_settings/);
    expect(view).toMatch(/E:42501 statement denied: a view over pg_settings/);
    expect(show).toMatch(/D:"\$user", public/);
  });

  it("refuses a database-qualified set_config, even where set_config is otherwise denied by name", async () => {
    const out = await pipelined("reader", `SELECT ${DB}.pg_catalog.set_config('standard_conforming_strings', 'off', false)`);
    expect(out).toMatch(/E:42501 statement denied: changing standard_conforming_strings is not allowed through the gateway/);
    expect(out).toMatch(/\|\| .*D:on/);
    expect(await victims()).toEqual(UNTOUCHED);
  });

  it("refuses set_config run inside query_to_xml", async () => {
    const out = await pipelined("reader", "SELECT query_to_xml('select set_config(''standard_conforming_strings'', ''off'', false)', true, false, '')");
    expect(out).toMatch(/E:42501 statement denied: query_to_xml\(\) is not allowed through the gateway/);
    expect(await victims()).toEqual(UNTOUCHED);
  });

  it("refuses SET ROLE: \"$user\" would put the role's schema first, and `victims` would be its table", async () => {
    const [setRole, read, who, reset] = await run("app", "SET ROLE hoopgate_fixsql_billing", "SELECT * FROM victims WHERE id = 1", "SELECT current_user", "RESET ROLE");
    expect(setRole).toMatch(/E:42501 statement denied: changing the role/);
    expect(read).toContain("D:1,row 1");
    expect(read).not.toContain("PAN-SECRET-1");
    expect(who).toContain("D:postgres");
    expect(reset).toContain("C:RESET");
  });
});

describe("reads the facts could not see", () => {
  it("refuses query_to_xml, table_to_xml and ts_stat reading a table outside a `within` allow-list", async () => {
    const out = await run(
      "support",
      "SELECT name FROM customers",
      "SELECT query_to_xml('select card from payment_methods', true, false, '')",
      "SELECT table_to_xml('payment_methods', true, false, '')",
      "SELECT * FROM ts_stat('select to_tsvector(card) from payment_methods')",
    );
    expect(out[0]).toContain("D:Ada");
    for (const refused of out.slice(1)) {
      expect(refused).toMatch(/E:42501 statement denied: \w+\(\) is not allowed through the gateway/);
      expect(refused).not.toContain("4111111111111111");
    }
  });

  it("refuses a denied function run inside query_to_xml", async () => {
    const [baseline, hidden] = await run("reader", "SELECT pg_ls_dir('.')", "SELECT query_to_xml('select pg_ls_dir(''.'') as f', true, false, '')");
    expect(baseline).toMatch(/E:42501 statement denied: no server files/);
    expect(hidden).toMatch(/E:42501 statement denied: query_to_xml\(\) is not allowed/);
    expect(hidden).not.toContain("PG_VERSION");
  });

  it("denies an unqualified catalog relation by its pg_catalog name", async () => {
    const [qualified, bare] = await run("reader", "SELECT rolname, rolpassword FROM pg_catalog.pg_authid", "SELECT rolname, rolpassword FROM pg_authid WHERE rolname = 'postgres'");
    expect(qualified).toMatch(/E:42501 statement denied: password hashes/);
    expect(bare).toMatch(/E:42501 statement denied: password hashes/);
  });
});

describe("writes stored in rules and SQL-standard function bodies", () => {
  it("are judged when stored: an identity allowed to create, not to delete, cannot store a DELETE for later", async () => {
    await fixture.direct.query("drop function if exists rt4_wipe(); drop table if exists rt4_ping");
    const [table, fn, rule, harmless] = await run(
      "builder",
      "CREATE TABLE rt4_ping (x int)",
      "CREATE FUNCTION rt4_wipe() RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM victims; END",
      "CREATE RULE rt4_purge AS ON INSERT TO rt4_ping DO ALSO DELETE FROM victims",
      "CREATE FUNCTION rt4_two() RETURNS int LANGUAGE sql RETURN 2",
    );
    expect(table).toContain("C:CREATE TABLE");
    for (const refused of [fn, rule]) expect(refused).toMatch(/E:42501 statement denied/);
    expect(harmless).toContain("C:CREATE FUNCTION");
    const made = await fixture.direct.query("select (select count(*) from pg_proc where proname = 'rt4_wipe')::int as fns, (select count(*) from pg_rules where rulename = 'rt4_purge')::int as rules");
    expect(made.rows[0]).toEqual({ fns: 0, rules: 0 });
    await fixture.direct.query("drop function if exists rt4_two(); drop table if exists rt4_ping");
  });
});

describe("functions bound by DDL", () => {
  it("denies CREATE OPERATOR and CREATE AGGREGATE binding a denied function, so no later statement reads the file", async () => {
    await fixture.direct.query("drop operator if exists !!! (none, text); drop operator if exists !#! (none, int4); drop operator if exists ### (oid, text); drop aggregate if exists rt4_rf(text)");
    const [allowed, allowedUse, operator, use, aggregate, aggregateUse, quoted, loExport] = await run(
      "builder",
      "CREATE OPERATOR !#! (RIGHTARG = int4, FUNCTION = int4abs)",
      "SELECT !#! -5",
      "CREATE OPERATOR !!! (RIGHTARG = text, FUNCTION = pg_read_file)",
      "SELECT !!! '/etc/passwd'",
      "CREATE AGGREGATE rt4_rf(text) (SFUNC = textcat, STYPE = text, INITCOND = '', FINALFUNC = pg_read_file)",
      "SELECT rt4_rf('/etc/passwd')",
      "CREATE AGGREGATE rt4_rf(text) (SFUNC = textcat, STYPE = text, INITCOND = '', FINALFUNC = 'pg_catalog.pg_read_file')",
      "CREATE OPERATOR ### (LEFTARG = oid, RIGHTARG = text, FUNCTION = lo_export)",
    );
    expect(allowed).toContain("C:CREATE OPERATOR");
    expect(allowedUse).toContain("D:5");
    for (const denied of [operator, aggregate, loExport]) expect(denied).toMatch(/E:42501 statement denied: no server files/);
    // a string names one function, dots and all: PostgreSQL looks up "pg_catalog.pg_read_file" and finds none
    expect(quoted).not.toContain("C:CREATE AGGREGATE");
    for (const failed of [use, aggregateUse]) {
      expect(failed).toMatch(/E:42883/);
      expect(failed).not.toContain("root:");
    }
    const made = await fixture.direct.query("select (select count(*) from pg_operator where oprname in ('!!!', '###'))::int as ops, (select count(*) from pg_proc where proname = 'rt4_rf')::int as aggs");
    expect(made.rows[0]).toEqual({ ops: 0, aggs: 0 });
    await fixture.direct.query("drop operator if exists !#! (none, int4)");
  });
});

describe("writes to every row that passed as restricted", () => {
  it("holds an upsert from a query as an update without a WHERE", async () => {
    const [upsert, values] = await run(
      "app",
      "INSERT INTO victims (id, v) SELECT id, 'pwned' FROM victims ON CONFLICT (id) DO UPDATE SET v = excluded.v",
      "INSERT INTO victims (id, v) VALUES (2, 'two') ON CONFLICT (id) DO UPDATE SET v = excluded.v",
    );
    expect(upsert).toMatch(/E:42501 approval required/);
    expect(values).toContain("C:INSERT 0 1");
    expect(await victims()).toEqual(["1:row 1", "2:two", "3:row 3", "4:row 4", "5:row 5"]);
  });

  it("does not let an insert-only role rewrite rows with ON CONFLICT DO UPDATE", async () => {
    const [insert, upsert] = await run(
      "inserter",
      "INSERT INTO victims (id, v) VALUES (6, 'six')",
      "INSERT INTO victims (id, v) VALUES (1, 'pwned') ON CONFLICT (id) DO UPDATE SET v = excluded.v",
    );
    expect(insert).toContain("C:INSERT 0 1");
    expect(upsert).toMatch(/E:42501 statement denied/);
    expect(await victims()).toEqual([...UNTOUCHED, "6:six"]);
  });

  it.each([
    "DELETE FROM victims WHERE EXISTS (SELECT id)",
    "DELETE FROM victims WHERE id IN (SELECT id FROM victims)",
    "UPDATE victims SET v = 'pwned' WHERE tableoid = 'victims'::regclass",
    "UPDATE victims SET v = 'pwned' WHERE (id = 5) IS NOT NULL",
    "MERGE INTO victims t USING victims s ON t.id = s.id WHEN MATCHED THEN DELETE",
    "UPDATE victims SET v = 'pwned' FROM victims v2 WHERE victims.id = v2.id",
  ])("holds %s as a write without a WHERE", async (sql) => {
    const [out] = await run("app", sql);
    expect(out).toMatch(/E:42501 approval required/);
    expect(await victims()).toEqual(UNTOUCHED);
  });

  // second red-team round: each of these rewrote or deleted every row with no review
  it.each([
    // RT2-1: a copy of the target whose columns an alias list renames, a JOIN … USING alias, a LATERAL item over a copy
    "DELETE FROM victims USING victims AS v2(x) WHERE victims.id = v2.x",
    "UPDATE victims SET v = 'pwned' WHERE id IN (SELECT x FROM victims AS v(x))",
    "UPDATE victims SET v = 'pwned' WHERE id = ANY (ARRAY(SELECT x FROM victims v(x)))",
    "UPDATE victims SET v = 'pwned' FROM victims v2 JOIN victims v3 USING (id) AS j WHERE victims.id = j.id",
    "MERGE INTO victims t USING victims AS s(x, y) ON t.id = s.x WHEN MATCHED THEN UPDATE SET v = 'pwned'",
    "DELETE FROM victims USING victims v2, LATERAL (SELECT v2.id AS x) s WHERE victims.id = s.x",
    "DELETE FROM victims USING victims v2, unnest(ARRAY[v2.id]) u(x) WHERE victims.id = u.x",
    "DELETE FROM victims WHERE id IN (SELECT (v).id FROM victims v)",
    "UPDATE victims SET v = 'pwned' FROM (SELECT id AS y FROM victims) s WHERE victims.id = y",
    "MERGE INTO victims t USING (SELECT id AS y FROM victims) s ON t.id = y WHEN MATCHED THEN UPDATE SET v = 'pwned'",
    // RT2-1b: a null or distinctness test on the whole row, a condition whose value does not depend on the row
    "DELETE FROM victims WHERE NOT (victims IS NULL)",
    "DELETE FROM victims t WHERE t IS DISTINCT FROM NULL",
    "DELETE FROM victims WHERE coalesce(v, '') IS DISTINCT FROM NULL",
    "DELETE FROM victims WHERE CASE WHEN id = 5 THEN true ELSE true END",
    "DELETE FROM victims WHERE coalesce(true, id = 5)",
    "DELETE FROM victims WHERE (id = 5) IN (true, false)",
    "DELETE FROM victims WHERE coalesce((SELECT true WHERE id = 5), true)",
    "DELETE FROM victims WHERE (SELECT true WHERE id = 5 UNION SELECT true)",
    "DELETE FROM victims WHERE EXISTS (SELECT count(*) FROM customers WHERE customers.id = victims.id)",
    "DELETE FROM victims WHERE EXISTS (SELECT 1 WHERE id = 5 HAVING true)",
    "DELETE FROM victims WHERE (id = NULL) IS NOT TRUE",
    "DELETE FROM victims WHERE (SELECT false WHERE id = 5) IS NOT TRUE",
    "DELETE FROM victims WHERE 5 = ALL (SELECT 5 WHERE id = 5)",
    "DELETE FROM victims WHERE 5 NOT IN (SELECT 6 WHERE id = 5)",
    "DELETE FROM victims WHERE ARRAY(SELECT 5 WHERE id = 5) <> ARRAY[6]",
    // RT2-2: a set-returning function the list missed expands an upsert's VALUES into every row
    "INSERT INTO victims (id, v) VALUES ((information_schema._pg_expandarray(ARRAY(SELECT id FROM victims))).x, 'pwned') ON CONFLICT (id) DO UPDATE SET v = excluded.v",
  ])("holds %s as a write without a WHERE", async (sql) => {
    const [out] = await run("app", sql);
    expect(out).toMatch(/E:42501 approval required/);
    expect(await victims()).toEqual(UNTOUCHED);
  });

  it("still lets restricted writes in those shapes through", async () => {
    const out = await run(
      "app",
      "UPDATE victims SET v = 'five' WHERE coalesce(id, 0) = 5",
      "DELETE FROM victims USING victims AS v2(x) WHERE victims.id = 4 AND v2.x = victims.id",
      "UPDATE victims SET v = 'three' WHERE CASE WHEN id > 2 THEN id ELSE 0 END = 3",
      "INSERT INTO victims (id, v) VALUES (1, lower('ONE') || now()::date::text) ON CONFLICT (id) DO UPDATE SET v = left(excluded.v, 3)",
    );
    expect(out[0]).toContain("C:UPDATE 1");
    expect(out[1]).toContain("C:DELETE 1");
    expect(out[2]).toContain("C:UPDATE 1");
    expect(out[3]).toContain("C:INSERT 0 1");
    expect(await victims()).toEqual(["1:one", "2:row 2", "3:three", "5:five"]);
  });
});

describe("the set-returning and scalar builtin lists against the server's catalog", () => {
  it("lists every set-returning function of pg_catalog and information_schema, and no scalar builtin that has a set-returning form", async () => {
    const srf = (await fixture.direct.query("select distinct proname from pg_proc where proretset and pronamespace in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)")).rows.map((r: { proname: string }) => r.proname);
    expect(srf.filter((n: string) => !SET_RETURNING_BUILTINS.has(n))).toEqual([]);
    const builtin = new Set((await fixture.direct.query("select distinct proname from pg_proc where pronamespace = 'pg_catalog'::regnamespace")).rows.map((r: { proname: string }) => r.proname));
    const returnsSets = new Set((await fixture.direct.query("select distinct proname from pg_proc where proretset")).rows.map((r: { proname: string }) => r.proname));
    expect([...SCALAR_BUILTINS].filter((n) => !builtin.has(n) || returnsSets.has(n))).toEqual([]);
  });
});

// What a statement reaches without naming it: EXECUTE and FETCH run a statement stored earlier,
// operators and casts run functions without a call in the text, planner statistics hold sample
// values of every column (docs/masking.md). Through the gateway against the machine's real
// PostgreSQL, as a superuser and as a role that only has SELECT.

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Catalog } from "../runtime/postgres/masks/catalog.js";
import { freshDatabase, PG, startGateway, type Gateway } from "./support/pg-gateway.js";
import { maskingProbe } from "./support/pg-masking.js";

const DB = "hoopgate_pgmaskind";
const ROLE = "hoopgate_pgmaskind_reader";

const policy = (issuer: string): string => `
connection inddb { kind = postgres }
connection roledb { kind = postgres }
group readers {
  issuer = "${issuer}"
  when   = claims.role == "reader"
}
group admins {
  issuer = "${issuer}"
  when   = claims.role == "admin"
}

policy readers-masked {
  subjects    = [group.readers]
  connections = [connection.inddb, connection.roledb]
  allow when sql.command in [select, prepare, execute, delete, begin, commit, rollback, other]
  deny  when sql.command == delete and not sql.has_where { reason = "DELETE without WHERE" }
  mask columns ["people.email"] { with = partial(4) }
  mask columns ["people.ssn"]
  mask columns ["vault.secret"] { with = hash }
}

policy admins-plain {
  subjects    = [group.admins]
  connections = [connection.inddb, connection.roledb]
  allow when sql.command == select
}
`;

/** everything a masked column holds in clear, in any case */
const CLEAR = /ada@example|bob@example|123-45-6789|987-65-4321|vault-secret-/i;

let gw: Gateway;
let direct: pg.Client;
/** the database as the role the `roledb` connection uses: no superuser */
let asRole: pg.Client;

const { withClient, bothProtocols, expectMasked, expectClear } = maskingProbe(() => gw, () => direct, CLEAR, "inddb");

beforeAll(async () => {
  await freshDatabase(DB);
  direct = new pg.Client({ ...PG, database: DB });
  await direct.connect();
  await direct.query(`
    do $$ begin
      if not exists (select 1 from pg_roles where rolname = '${ROLE}') then create role ${ROLE} login; end if;
    end $$;
    create table people (id int primary key, name text, email text, ssn text);
    insert into people select i, 'P' || i, case when i % 2 = 0 then 'ada@example.com' else 'bob@example.org' end,
                              case when i % 2 = 0 then '123-45-6789' else '987-65-4321' end
      from generate_series(1, 40) i;
    create table vault (id int primary key, secret text);
    insert into vault values (1, 'vault-secret-1');
    create table items (id int primary key, name text);
    insert into items values (1, 'Widget'), (2, 'Gadget');
    create table scratch (id int primary key);
    insert into scratch values (1), (2), (3);

    create function leak_op(int, int) returns text language sql stable as $$ select string_agg(ssn, ';') from people $$;
    create operator ### (leftarg = int, rightarg = int, function = leak_op);
    create schema other;
    create operator other.@@@ (leftarg = int, rightarg = int, function = leak_op);

    -- a composite type with an explicit cast to text that reads people
    create type t as (x int);
    create function leak_t(t) returns text language sql stable as $$ select string_agg(ssn, ';') from people $$;
    create cast (t as text) with function leak_t(t);
    create table t_items (id int primary key, c t);
    insert into t_items values (1, row(1));
    -- the same, applied unasked: lower(c) converts c to text through it
    create type u as (x int);
    create function leak_u(u) returns text language sql stable as $$ select string_agg(ssn, ';') from people $$;
    create cast (u as text) with function leak_u(u) as implicit;
    create table u_items (id int primary key, c u);
    insert into u_items values (1, row(1));
    create type mood as enum ('sad', 'ok');

    create statistics people_mcv (mcv) on email, ssn from people;
    create statistics people_expr on lower(ssn), id from people;
    analyze people;
    create view stats_v as select tablename, attname, histogram_bounds::text as h, most_common_vals::text as m from pg_stats;
    -- pg_statistic is pinned: no dependency recorded, found in the rule's tree
    create view statistic_v as select starelid::regclass::text as rel, stavalues1::text as v1, stavalues2::text as v2 from pg_statistic;

    grant usage on schema public, other to ${ROLE};
    grant select on all tables in schema public to ${ROLE};
  `);
  asRole = new pg.Client({ ...PG, user: ROLE, database: DB });
  await asRole.connect();
  gw = await startGateway({ policy, targets: { inddb: { ...PG, database: DB }, roledb: { ...PG, user: ROLE, database: DB } } });
});

afterAll(async () => {
  await gw?.close();
  await asRole?.end();
  await direct?.end();
  const admin = new pg.Client({ ...PG, database: "postgres" });
  await admin.connect();
  await admin.query(`drop database if exists ${DB} with (force)`);
  await admin.query(`drop role if exists ${ROLE}`);
  await admin.end();
});

async function rows(c: pg.Client, sql: string): Promise<unknown[][]> {
  return (await c.query({ text: sql, rowMode: "array" })).rows;
}

async function refusal(c: pg.Client, sql: string): Promise<{ code?: string; message?: string }> {
  const err = (await c.query(sql).then(() => undefined, (e: unknown) => e)) as { code?: string; message?: string } | undefined;
  expect(err, sql).toBeDefined();
  return err!;
}

describe("EXECUTE", () => {
  it("masks the derived columns of a prepared statement with the session's strongest mask", async () => {
    await withClient("reader", async (c) => {
      await c.query("prepare p as select id, upper(ssn) as s, lower(email) as e from people where id <= 2 order by id");
      // without the gateway the same statement shows the values
      expect(JSON.stringify(await rows(direct, "select id, upper(ssn) as s, lower(email) as e from people where id <= 2 order by id"))).toMatch(CLEAR);
      const { simple, extended } = await bothProtocols(c, "execute p");
      // id has provenance (people.id has no mask); the derived columns take redact, the strongest
      expect(simple).toEqual([[1, "[REDACTED]", "[REDACTED]"], [2, "[REDACTED]", "[REDACTED]"]]);
      expect(extended).toEqual(simple);
    });
  });

  it("masks a column with provenance by its own mask, and fails closed on any derived one", async () => {
    await withClient("reader", async (c) => {
      await c.query("prepare cols as select id, email, ssn from people where id = 2");
      expect(await rows(c, "execute cols")).toEqual([[2, "***********.com", "[REDACTED]"]]);
      await c.query("prepare plain as select id, name from items order by id");
      expect(await rows(c, "execute plain")).toEqual([[1, "Widget"], [2, "Gadget"]]);
      // what p reads is not known to the gateway: even a builtin over an unmasked table is masked
      await c.query("prepare derived as select upper(name) from items order by id");
      expect(await rows(c, "execute derived")).toEqual([["[REDACTED]"], ["[REDACTED]"]]);
    });
  });

  it("does not reuse the plan of a statement with the same shape and names", async () => {
    await withClient("reader", async (c) => {
      await c.query("prepare q as select upper(ssn) as v from people where id = 2");
      // one text column "v" without provenance, no tables, no functions: only the command differs
      expect(await rows(c, "select 'x' as v")).toEqual([["x"]]);
      expect(await rows(c, "execute q")).toEqual([["[REDACTED]"]]);
      expect(await rows(c, "select 'x' as v")).toEqual([["x"]]);
    });
  });

  it("refuses PREPARE of a statement the policy denies, so EXECUTE has nothing to run", async () => {
    await withClient("reader", async (c) => {
      const err = await refusal(c, "prepare d as delete from scratch");
      expect(err).toMatchObject({ code: "42501" });
      expect(err.message).toMatch(/DELETE without WHERE/);
      expect(await refusal(c, "execute d")).toMatchObject({ code: "26000" });
      expect(await refusal(c, "prepare d2 as with x as (delete from scratch returning id) select * from x")).toMatchObject({ code: "42501" });
      // a restricted delete is allowed, prepared or not
      await c.query("prepare d3 as delete from scratch where id = $1");
      await c.query("execute d3(3)");
    });
    expect(await rows(direct, "select id from scratch order by id")).toEqual([[1], [2]]);
  });
});

describe("cursors", () => {
  it("mask the derived columns FETCH returns", async () => {
    await withClient("reader", async (c) => {
      await c.query("begin");
      await c.query("declare c cursor for select id, upper(ssn), email from people where id <= 2 order by id");
      expect(await rows(c, "fetch 1 from c")).toEqual([[1, "[REDACTED]", "***********.org"]]);
      await c.query("move absolute 0 in c");
      const all = await rows(c, "fetch all from c");
      expect(all).toHaveLength(2);
      expect(JSON.stringify(all)).not.toMatch(CLEAR);
      await c.query("declare d cursor for select upper(name) from items order by id");
      expect(await c.query({ name: "fetch_d", text: "fetch all from d", rowMode: "array" }).then((r) => r.rows)).toEqual([["[REDACTED]"], ["[REDACTED]"]]);
      await c.query("commit");
    });
  });
});

describe("operators", () => {
  it("mask the result of a user-defined operator on an unmasked table", async () => {
    await withClient("reader", async (c) => {
      const masked = await expectMasked(c, "select 1 ### 2 from items order by id");
      expect(masked).toEqual([["[REDACTED]"], ["[REDACTED]"]]);
      await expectMasked(c, "select id ### id as x, name from items order by id");
      await expectMasked(c, "select 1 operator(public.###) 2 from items");
      await expectMasked(c, "select 1 operator(other.@@@) 2 from items");
    });
  });

  it("does not reuse a builtin operator's plan for a user operator's result of the same shape", async () => {
    await withClient("reader", async (c) => {
      expect(await rows(c, "select 'a' || 'b' as v")).toEqual([["ab"]]);
      expect(await rows(c, "select 1 ### 2 as v")).toEqual([["[REDACTED]"]]);
    });
  });

  it("leave builtin operators alone", async () => {
    await withClient("reader", async (c) => {
      await expectClear(c, "select id + 1, name || '!', '{\"a\":\"b\"}'::jsonb ->> 'a', id between 1 and 2, name like 'W%' from items order by id");
      await expectClear(c, "select case id when 1 then 'one' else 'other' end, id in (select 1) from items order by id using >");
    });
  });
});

describe("casts", () => {
  it("mask a cast through a user-defined cast function", async () => {
    await withClient("reader", async (c) => {
      await expectMasked(c, "select '(1)'::t::text from items");
      await expectMasked(c, "select c::text from t_items");
      await expectMasked(c, "select cast(c as text) as x, id from t_items");
    });
  });

  it("mask a cast the server applies unasked (implicit) from a column's type", async () => {
    await withClient("reader", async (c) => {
      const masked = await expectMasked(c, "select id, lower(c) from u_items");
      expect(masked).toEqual([[1, "[REDACTED]"]]);
    });
  });

  it("mask a cast to a type that is not built in, fail closed", async () => {
    await withClient("reader", async (c) => {
      expect(await rows(c, "select 'ok'::mood::text from items where id = 1")).toEqual([["[REDACTED]"]]);
    });
  });

  it("leave builtin casts alone", async () => {
    await withClient("reader", async (c) => {
      await expectClear(c, "select id::text as i, name::varchar(3), date '2020-01-02', cast(id as bigint), '1 day'::interval from items order by 1");
    });
  });

  it("ask the catalog once per name, not per statement", async () => {
    const catalog = new Catalog({ ...PG, database: DB });
    const query = vi.spyOn(pg.Pool.prototype, "query");
    try {
      const names = { functions: ["lower"], operators: ["=", "+", "||", "->>"], casts: ["int4", "pg_catalog.int4", "text"], attributes: [] };
      expect(await catalog.runsOpaqueCode(names)).toBe(false);
      // one query per name the first time (pg_catalog.int4 too), none after
      const first = query.mock.calls.length;
      expect(first).toBe(8);
      for (let i = 0; i < 3; i++) expect(await catalog.runsOpaqueCode(names)).toBe(false);
      expect(query.mock.calls.length).toBe(first);
      expect(await catalog.runsOpaqueCode({ functions: [], operators: ["###"], casts: [], attributes: [] })).toBe(true);
      expect(await catalog.runsOpaqueCode({ functions: [], operators: [], casts: ["mood"], attributes: [] })).toBe(true);
      // t.f runs f(t): a column's name is no call, a user's one-argument function is
      expect(await catalog.runsOpaqueCode({ functions: [], operators: [], casts: [], attributes: ["email", "name"] })).toBe(false);
      expect(await catalog.runsOpaqueCode({ functions: [], operators: [], casts: [], attributes: ["leak_t"] })).toBe(true);
    } finally {
      query.mockRestore();
      await catalog.close();
    }
  });
});

describe("planner statistics", () => {
  const STATISTICS_QUERIES = [
    "select attname, most_common_vals::text, histogram_bounds::text from pg_stats where tablename = 'people'",
    "select most_common_vals::text from pg_catalog.pg_stats_ext where tablename = 'people'",
    "select most_common_vals::text from pg_stats_ext_exprs where tablename = 'people'",
  ];

  it("show masked values in clear without the gateway: pg_stats to a role with SELECT, the extended ones to the owner", async () => {
    expect(JSON.stringify(await rows(asRole, STATISTICS_QUERIES[0]!))).toMatch(CLEAR);
    for (const sql of STATISTICS_QUERIES) expect(JSON.stringify(await rows(direct, sql)), sql).toMatch(CLEAR);
  });

  it("are refused in a session with column masks", async () => {
    for (const connection of ["roledb", "inddb"]) {
      await withClient("reader", async (c) => {
        for (const sql of [...STATISTICS_QUERIES, "table pg_stats"]) {
          const err = await refusal(c, sql);
          expect(err, sql).toMatchObject({ code: "42501" });
          expect(err.message).toMatch(/pg_stats.*sample values of masked columns/);
        }
      }, connection);
    }
    await withClient("reader", async (c) => {
      const err = await refusal(c, "select stanumbers1 from pg_catalog.pg_statistic");
      expect(err.message).toMatch(/"pg_statistic" holds sample values/);
    });
  });

  it("mask a view over them whole", async () => {
    await withClient("reader", async (c) => {
      for (const sql of ["select * from stats_v where tablename = 'people'", "select * from statistic_v where rel = 'people'", "select upper(v1) from statistic_v"]) {
        expect(JSON.stringify(await rows(direct, sql)), sql).toMatch(CLEAR);
        const masked = await rows(c, sql);
        expect(masked.length, sql).toBeGreaterThan(0);
        expect(JSON.stringify(masked), sql).not.toMatch(CLEAR);
      }
    });
  });

  it("stay readable in a session without column masks", async () => {
    await withClient("admin", async (c) => {
      expect(JSON.stringify(await rows(c, STATISTICS_QUERIES[0]!))).toMatch(CLEAR);
    }, "roledb");
  });
});

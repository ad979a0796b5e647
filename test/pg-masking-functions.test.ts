// Functions that are not built in can read any table: called from a statement on an unmasked
// table, in FROM, or in a view's definition, their results take the strongest mask of the
// session (docs/masking.md). Through the gateway against the machine's real PostgreSQL, with pg
// over the simple and the extended protocol.

import { beforeAll, describe, expect, it } from "vitest";
import { gatewayFixture } from "./support/pg-gateway.js";
import { maskingProbe } from "./support/pg-masking.js";

const DB = "hoopgate_pgmaskfn";

const policy = (issuer: string): string => `
connection fndb { kind = postgres }
group readers {
  issuer = "${issuer}"
  when   = claims.role == "reader"
}
group makers {
  issuer = "${issuer}"
  when   = claims.role == "maker"
}

policy readers-masked {
  subjects    = [group.readers]
  connections = [connection.fndb]
  allow when sql.command in [select, copy]
  mask columns ["people.email"] { with = partial(4) }
  mask columns ["people.ssn"]
  mask columns ["vault.secret"] { with = hash }
}

policy makers-masked {
  subjects    = [group.makers]
  connections = [connection.fndb]
  allow when sql.command in [select, create, begin, rollback]
  mask columns ["people.ssn"]
}
`;

/** everything a masked column holds in clear, in any case */
const CLEAR = /ada@example|bob@example|123-45-6789|987-65-4321|vault-secret-/i;

const fixture = gatewayFixture(DB, "fndb", policy);

beforeAll(async () => {
  await fixture.direct.query(`
    create table people (id int primary key, name text, email text, ssn text);
    insert into people values (1, 'Ada', 'ada@example.com', '123-45-6789'), (2, 'Bob', 'bob@example.org', '987-65-4321');
    create table vault (id int primary key, secret text);
    insert into vault values (1, 'vault-secret-1');
    create table items (id int primary key, name text);
    insert into items values (1, 'Widget'), (2, 'Gadget');

    create function leak_sql() returns text language sql stable
      as $$ select string_agg(email || ' ' || ssn, ';' order by id) from people $$;
    create function leak_plpgsql(i int) returns text language plpgsql stable
      as $$ begin return (select email || ' ' || ssn from people where id = i); end $$;
    create function leak_vault() returns text language sql stable as $$ select secret from vault limit 1 $$;
    create function leak_rows() returns setof people language sql stable as $$ select * from people $$;
    create function leak_table() returns table (e text, s text) language sql stable as $$ select email, ssn from people $$;
    create function leak_as_items() returns setof items language sql stable as $$ select id, ssn from people $$;
    create schema other;
    create function other.leak_q() returns text language sql stable as $$ select string_agg(ssn, ';') from people $$;
    -- shares a builtin's name: an unqualified reverse(…) may be this one
    create function public.reverse(integer) returns text language sql stable as $$ select string_agg(ssn, ';') from people $$;
    create function leak_op(int, int) returns text language sql stable as $$ select string_agg(ssn, ';') from people $$;
    create operator ### (leftarg = int, rightarg = int, function = leak_op);

    create view items_fn_v as select id, name, leak_sql() as extra from items;
    create view items_fn_nested_v as select id, name from items_fn_v;
    create view rows_v as select * from leak_rows();
    create view items_op_v as select id, id ### id as extra from items;
    create view items_xml_v as select id, query_to_xml('select ssn from people', true, false, '') as x from items;
    create view items_plain_v as select id, lower(name) as lname, length(name) as len from items;
  `);
});

const { withClient, bothProtocols, expectMasked, expectClear } = maskingProbe(() => fixture.gw, () => fixture.direct, CLEAR, "fndb");

describe("user-defined functions called on an unmasked table", () => {
  it("masks a SQL and a plpgsql function's result with the session's strongest mask", async () => {
    await withClient("reader", async (c) => {
      const rows = await expectMasked(c, "select id, leak_sql() from items order by id");
      // id has provenance (items, unmasked); the function's column takes redact, the strongest
      expect(rows).toEqual([[1, "[REDACTED]"], [2, "[REDACTED]"]]);
      await expectMasked(c, "select leak_plpgsql(id) as x from items order by id");
      await expectMasked(c, "select leak_sql()");
      await expectMasked(c, "select upper(leak_sql()) from items");
      await expectMasked(c, "select i.name from items i where i.name <> leak_sql() union all select leak_sql()");
    });
  });

  it("does not reuse a builtin's plan for a result of the same shape from a user function", async () => {
    await withClient("reader", async (c) => {
      // same tables, same RowDescription (one text column "v" without provenance)
      expect((await c.query("select lower('X') as v from items where id = 1")).rows).toEqual([{ v: "x" }]);
      expect((await c.query("select leak_sql() as v from items where id = 1")).rows).toEqual([{ v: "[REDACTED]" }]);
    });
  });

  it("masks a function reading a masked table the statement never names", async () => {
    await withClient("reader", async (c) => {
      const rows = await expectMasked(c, "select leak_vault() from items order by id");
      expect(rows).toEqual([["[REDACTED]"], ["[REDACTED]"]]);
    });
  });

  it("masks a schema-qualified call", async () => {
    await withClient("reader", async (c) => {
      await expectMasked(c, "select other.leak_q() from items");
      await expectMasked(c, 'select "other"."leak_q"() as q from items');
      await expectMasked(c, "select public.leak_sql() from items");
    });
  });

  it("masks set-returning functions in FROM, whatever rowtype they return", async () => {
    await withClient("reader", async (c) => {
      await expectMasked(c, "select * from leak_rows()");
      await expectMasked(c, "select email, ssn from leak_rows() r order by id");
      await expectMasked(c, "select * from leak_table()");
      await expectMasked(c, "select * from leak_as_items()");
      await expectMasked(c, "select i.id, r.ssn from items i, lateral leak_rows() r where r.id = i.id");
      await expectMasked(c, "select leak_rows() from items");
    });
  });

  it("treats a function that shares a builtin's name as user-defined", async () => {
    await withClient("reader", async (c) => {
      await expectMasked(c, "select reverse(1) from items");
      await expectMasked(c, "select public.reverse(id) from items");
    });
  });

  it("masks a view calling a builtin that runs a query given as text; a statement calling one is refused (SQL facts)", async () => {
    await withClient("reader", async (c) => {
      await expectMasked(c, "select * from items_xml_v");
      for (const sql of [
        "select query_to_xml('select ssn from people', true, false, '') from items",
        "select table_to_xml('people', true, false, '') from items",
        "select * from ts_stat('select to_tsvector(email) from people')",
      ]) {
        const err = await c.query(sql).catch((e: unknown) => e);
        expect(err, sql).toMatchObject({ code: "42501", message: expect.stringMatching(/is not allowed through the gateway: it (runs SQL given as text|reads a relation)/) });
      }
    });
  });

  it("ends the session on COPY of a statement that calls one", async () => {
    await withClient("reader", async (c) => {
      const err = await c.query("copy (select leak_sql() from items) to stdout").catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "42501" });
      expect(JSON.stringify(err)).not.toMatch(CLEAR);
    });
  });

  it("cannot create one in a session with column masks (not even in an open transaction, where the catalog would not see it)", async () => {
    await withClient("maker", async (c) => {
      await c.query("begin");
      await expect(c.query("create function tx_leak() returns text language sql as $$ select string_agg(ssn, ';') from people $$"))
        .rejects.toMatchObject({ code: "42501", message: expect.stringMatching(/creating or changing code the server runs later/) });
      await c.query("rollback");
      await expect(c.query("select tx_leak() from items")).rejects.toMatchObject({ code: "42883" });
    });
  });
});

describe("views that call user-defined functions", () => {
  it("mask every column of the view with the session's strongest mask", async () => {
    await withClient("reader", async (c) => {
      const rows = await expectMasked(c, "select * from items_fn_v order by id");
      // redact gives NULL for a column that is not text
      expect(rows).toEqual([[null, "[REDACTED]", "[REDACTED]"], [null, "[REDACTED]", "[REDACTED]"]]);
      await expectMasked(c, "select extra as e from items_fn_v");
      await expectMasked(c, "select * from rows_v");
      await expectMasked(c, "select * from items_op_v");
      await expectMasked(c, "select upper(extra) from items_fn_v");
    });
  });

  it("mask a view over such a view", async () => {
    await withClient("reader", async (c) => {
      const { simple } = await bothProtocols(c, "select name from items_fn_nested_v order by id");
      expect(simple).toEqual([["[REDACTED]"], ["[REDACTED]"]]);
    });
  });
});

describe("builtins", () => {
  it("on a masked table: the derived column is masked as before", async () => {
    await withClient("reader", async (c) => {
      await expectMasked(c, "select lower(email), upper(ssn) from people");
      await expectMasked(c, "select pg_catalog.lower(email) from people");
    });
  });

  it("on an unmasked table: nothing is masked", async () => {
    await withClient("reader", async (c) => {
      const { simple } = await bothProtocols(c, "select now() is not null as t, lower(name) as l from items order by id");
      expect(simple).toEqual([[true, "widget"], [true, "gadget"]]);
      await expectClear(c, "select pg_catalog.lower(name), length(name), count(*) over () from items order by id");
      await expectClear(c, "select count(*), string_agg(name, ',' order by id) from items");
      await expectClear(c, "select * from items_plain_v order by id");
      await expectClear(c, "select * from generate_series(1, 3)");
      await expectClear(c, "select id, name from items where lower(name) = 'widget'");
    });
  });
});

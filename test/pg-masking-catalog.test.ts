// What the masks need the catalog for, where a name or a table's family could hide a masked
// column: views whose names need quotes, partitions and inheritance children, relations the
// catalog cannot see (temporary, or made in the client's open transaction), builtins that read
// files or large objects, schema changes to a masked table, and the strategies a column without
// a mask of its own may borrow (docs/masking.md). Through the gateway against the machine's real
// PostgreSQL, each compared with the same statement run directly (which must show the values).

import { beforeAll, describe, expect, it } from "vitest";
import { gatewayFixture } from "./support/pg-gateway.js";
import { maskingProbe } from "./support/pg-masking.js";

const DB = "hoopgate_pgmaskcatalog";

const policy = (issuer: string): string => `
connection catdb { kind = postgres }
group readers {
  issuer = "${issuer}"
  when   = claims.role == "reader"
}
policy readers-masked {
  subjects    = [group.readers]
  connections = [connection.catdb]
  allow when sql.command in [select, copy, alter, create, insert, update, set, begin, commit, rollback]
  mask columns ["people.ssn"]
  mask columns ["people.email"] { with = partial(4) }
  mask columns ["parts.ssn"]
  mask columns ["inh.ssn"]
  mask columns ["shard_eu.ssn"]
  mask columns ["vault.pin"] { with = hash }
}
`;

/** every masked value in clear */
const CLEAR = /123-45-6789|987-65-4321|ada@example|bob@example|PIN-4821/;

const fixture = gatewayFixture(DB, "catdb", policy);
const { withClient, expectMasked, expectClear } = maskingProbe(() => fixture.gw, () => fixture.direct, CLEAR, "catdb");

beforeAll(async () => {
  await fixture.direct.query(`
    create table people (id int primary key, name text, email text, ssn text);
    insert into people values (1, 'Ada', 'ada@example.com', '123-45-6789'), (2, 'Bob', 'bob@example.org', '987-65-4321');
    create view "PeopleView" as select id, name, email, ssn from people;
    create schema "HR";
    create view "HR".staff as select id, ssn from people;

    create table parts (id int, region text, ssn text) partition by list (region);
    create table parts_eu partition of parts for values in ('eu');
    create table parts_us partition of parts for values in ('us');
    insert into parts values (1, 'eu', '123-45-6789'), (2, 'us', '987-65-4321');

    create table inh (id int, ssn text);
    create table inh_child () inherits (inh);
    insert into inh_child values (1, '123-45-6789');

    -- a mask on one partition only: the parent shows its rows
    create table shards (id int, region text, ssn text) partition by list (region);
    create table shard_eu partition of shards for values in ('eu');
    insert into shards values (1, 'eu', '987-65-4321');

    create table vault (id int, pin text);
    insert into vault values (1, 'PIN-4821');
    create table items (id int, name text);
    insert into items values (1, 'Widget');
    -- PostgREST's computed columns: items.requester_ssn runs requester_ssn(items)
    create function requester_ssn(items) returns text language sql stable as $$ select ssn from people where id = $1.id $$;
    -- SQL/JSON syntax to PostgreSQL 18's grammar, a function call to this PostgreSQL 15 server
    create function json_scalar(int) returns text language sql stable as $$ select ssn from people limit 1 $$;
    -- code made earlier (by a DBA) that reports a value as the session's time zone
    create function set_zone(t text) returns text language plpgsql as $$ begin perform set_config('TimeZone', '<' || t || '>0', false); return 'ok'; end $$;
    create sequence zone_seq;
  `);
});

describe("views whose names need quotes", () => {
  it.each([
    ['select upper(ssn), lower(email) from "PeopleView"'],
    ['select ssn || \'\' from "HR".staff'],
  ])("%s", async (sql) => {
    await withClient("reader", (c) => expectMasked(c, sql));
  });

  it("COPY through such a view ends the session before any row", async () => {
    await withClient("reader", async (c) => {
      await expect(c.query('copy (select * from "PeopleView") to stdout')).rejects.toThrow(/COPY reads a table with masked columns/);
    });
  });
});

describe("partitions and inheritance children are one table with their parents", () => {
  it.each([
    ["select ssn from parts_eu"],
    ["select id, upper(ssn) from parts_us"],
    ["select ssn from inh_child"],
    ["select ssn from shards"],
    ["select upper(ssn) from shards"],
  ])("%s", async (sql) => {
    await withClient("reader", (c) => expectMasked(c, sql));
  });

  it("a partition's unmasked columns stay in clear", async () => {
    await withClient("reader", (c) => expectClear(c, "select id, region from parts_eu order by id"));
  });

  it("COPY of a partition ends the session before any row", async () => {
    await withClient("reader", async (c) => {
      await expect(c.query("copy parts_us to stdout")).rejects.toThrow(/COPY reads a table with masked columns/);
    });
  });
});

describe("a column without a mask of its own never borrows partial or hash", () => {
  it("partial(4) on an expression would show whatever the client puts last", async () => {
    const sql = "select repeat('#', 20) || substr(email, i, 4) from people, generate_series(1, 13, 4) i where id = 1 order by i";
    const { rows: clear } = await fixture.direct.query({ text: sql, rowMode: "array" });
    expect(clear.flat().map((v) => String(v).slice(20)).join("")).toBe("ada@example.com");
    await withClient("reader", async (c) => {
      const { rows } = await c.query({ text: sql, rowMode: "array" });
      expect(rows.flat()).toEqual(["[REDACTED]", "[REDACTED]", "[REDACTED]", "[REDACTED]"]);
    });
  });

  it("hash on an expression would hash the client's own guesses with the column's key", async () => {
    await withClient("reader", async (c) => {
      const { rows: guesses } = await c.query({ text: "select 'PIN-' || g from generate_series(4820, 4822) g, (select 1 from vault limit 1) v", rowMode: "array" });
      const { rows: pins } = await c.query({ text: "select pin from vault", rowMode: "array" });
      // the column's own mask is still a hash; the derived guesses are not
      expect(pins[0]![0]).not.toBe("PIN-4821");
      expect(guesses.flat().some((g) => g === pins[0]![0])).toBe(false);
      expect(guesses.flat()).toEqual(["[REDACTED]", "[REDACTED]", "[REDACTED]"]);
    });
  });
});

describe("what the catalog cannot see takes the strongest mask", () => {
  it("a relation only the client's session has: derived columns from a temporary table", async () => {
    await withClient("reader", async (c) => {
      await c.query("create temp table scratch (x text)");
      await c.query("insert into scratch values ('harmless')");
      const { rows } = await c.query({ text: "select upper(x) from scratch", rowMode: "array" });
      expect(rows).toEqual([["[REDACTED]"]]);
    });
  });

  it("a column added since the catalog answered for its table", async () => {
    await withClient("reader", async (c) => {
      await c.query("select id from people");
      await fixture.direct.query("alter table people add column extra text default 'extra-value'");
      try {
        const { rows } = await c.query({ text: "select extra from people order by id", rowMode: "array" });
        expect(rows).toEqual([["[REDACTED]"], ["[REDACTED]"]]);
      } finally {
        await fixture.direct.query("alter table people drop column extra");
      }
    });
  });
});

describe("schema changes to a table with masked columns are refused", () => {
  const rebinding = /a name may read something the gateway's catalog does not see/;
  it.each([
    ["alter table people rename column ssn to s", rebinding],
    ["alter table people rename to people2", rebinding],
    ["alter table people add column c text generated always as (ssn) stored", /"people" has masked columns/],
    ["create index on people (ssn)", /"people" has masked columns/],
    ["create view pv2 as select * from people", rebinding],
    // through the family: a child of a masked parent, a partition
    ["alter table inh_child add column leak text generated always as (ssn) stored", /"inh" has masked columns/],
    ["create trigger t before insert on parts_eu for each row execute function suppress_redundant_updates_trigger()", /creating or changing code the server runs later/],
    // names that would stand for something else
    ["create temp view items as select * from \"PeopleView\"", rebinding],
    ["alter schema \"HR\" rename to hr2", rebinding],
    ["create schema ci", rebinding],
    ["alter table items set schema \"HR\"", rebinding],
  ])("%s", async (sql, reason) => {
    await withClient("reader", async (c) => {
      await expect(c.query(sql)).rejects.toMatchObject({ code: "42501", message: expect.stringMatching(reason) });
      expect((await c.query("select 1 as ok")).rows).toEqual([{ ok: 1 }]);
    });
    const { rows } = await fixture.direct.query("select attname from pg_attribute where attrelid = 'people'::regclass and attnum > 0 and not attisdropped order by attnum");
    expect(rows.map((r) => r.attname)).toEqual(["id", "name", "email", "ssn"]);
  });

  it("on other tables they run", async () => {
    await withClient("reader", async (c) => {
      await c.query("alter table items add column note text");
      await c.query("create index on items (name)");
    });
  });
});

describe("code the server runs later cannot be made in a session with column masks", () => {
  const defining = /creating or changing code the server runs later/;
  it.each([
    // a storing builtin bound to an operator: `'zone_seq'::regclass #=> f(ssn)` would set the sequence
    ["create operator #=> (leftarg = regclass, rightarg = bigint, function = setval)"],
    ["create function f2() returns text language sql as $$ select 1 $$"],
    ["create aggregate agg2 (text) (sfunc = textcat, stype = text)"],
    ["create domain d2 as text check (length(value) > 0)"],
    ["alter function requester_ssn(items) security definer"],
  ])("%s", async (sql) => {
    await withClient("reader", async (c) => {
      await expect(c.query(sql)).rejects.toMatchObject({ code: "42501", message: expect.stringMatching(defining) });
    });
  });
});

describe("a time zone the server reports", () => {
  it("that is not a zone's name or a fixed offset ends a session with column masks (it could spell a value)", async () => {
    await withClient("reader", async (c) => {
      const ended = new Promise<Error>((resolve) => c.once("error", resolve));
      await expect(c.query("select set_zone(translate(ssn, '0123456789-', 'ABCDEFGHIJZ')) from people where id = 1")).rejects.toThrow(/TimeZone that is neither a zone's name nor a fixed offset/);
      await ended.catch(() => undefined);
    });
    await withClient("reader", async (c) => {
      await c.query("set time zone 'Europe/Paris'");
      await c.query("set time zone 5");
      expect((await c.query("select 1 as ok")).rows).toEqual([{ ok: 1 }]);
    });
  });
});

describe("code called without a call in the text", () => {
  it.each([
    ["select i.requester_ssn from items i"],
    ["select (i).requester_ssn from items i"],
    ["select json_scalar(1)"],
  ])("%s", async (sql) => {
    await withClient("reader", (c) => expectMasked(c, sql));
  });
});

describe("builtins that read files or large objects are opaque", () => {
  it("a table's own data file, read as a superuser upstream may", async () => {
    await fixture.direct.query("checkpoint");
    await withClient("reader", (c) => expectMasked(c, "select encode(pg_read_binary_file(pg_relation_filepath('people')), 'escape')"));
  });
});

// RT2-5 and RT2-3 through the real gateway against the real server: the refusals that hold
// whatever the policy, reached by an identity allowed `create` without a call (CREATE
// AGGREGATE/OPERATOR/RULE), code whose body the facts cannot read changing how the server lexes
// a text pipelined behind it (the pipeline barrier), and TOAST relations. Each test checks the
// server-side effect: the table not dropped, the setting not changed, the values not read.

import { serialize } from "pg-protocol";
import { beforeEach, describe, expect, it } from "vitest";
import { gatewayFixture } from "./support/pg-gateway.js";
import { Bind, Execute, Parse, Query, Sync, trace, Wire } from "./support/pg-wire.js";

const DB = "hoopgate_fix2pipe_barrier";

/** one SELECT to the gateway's parser; with standard_conforming_strings off, a SELECT, a DROP and a SET to the server */
const SMUGGLED = "SELECT 'a\\''; DROP TABLE victims; SET standard_conforming_strings = on; --'";
/**
 * one SELECT to the gateway (UTF-8: ŕ is C5 95, then an escaped quote); in SJIS, C5 is a
 * katakana and 95 5C one kanji (表) that swallows the backslash: a SELECT, a DROP and a SET
 */
const SMUGGLED_SJIS = "SELECT E'ŕ\\'; DROP TABLE victims; SET client_encoding = UTF8; --'";

const policy = (issuer: string): string => `
connection barrier { kind = postgres }
group deploy {
  issuer = "${issuer}"
  when   = claims.role == "deploy"
}
group apps {
  issuer = "${issuer}"
  when   = claims.role == "app"
}
group readers {
  issuer = "${issuer}"
  when   = claims.role == "reader"
}
group oncall {
  issuer = "${issuer}"
  when   = claims.role == "oncall"
}

# examples/platform-ci ci-migrates-databases: may create, no payment data, drops need review
policy ci-migrates {
  subjects    = [group.deploy]
  connections = [connection.barrier]
  deny   when sql.tables has_any ["payment_methods", "public.payment_methods"] { reason = "payment data" }
  deny   when sql.command == do { reason = "anonymous code blocks hide what they run" }
  review when sql.command in [drop, truncate] { approvers = [group.oncall] }
  review when sql.command in [update, delete] and not sql.has_where { approvers = [group.oncall] }
  allow  when sql.command in [select, insert, update, delete, create, alter, begin, commit, rollback, set, show]
}

policy app-rw {
  subjects    = [group.apps]
  connections = [connection.barrier]
  deny  when sql.tables has_any ["payment_methods", "public.payment_methods"] { reason = "payment data" }
  allow when sql.command in [select, insert, update, delete, begin, commit, rollback, set, show]
}

policy reporting {
  subjects    = [group.readers]
  connections = [connection.barrier]
  allow when sql.command == select
  mask columns ["customers.notes"] { with = hash }
}
`;

const fixture = gatewayFixture(DB, "barrier", policy);

/** a value too large to stay inline, whose start pglz keeps literal */
const LARGE = "'4111111111111111 ' || (select string_agg(md5(g::text), '') from generate_series(1, 600) g)";

beforeEach(async () => {
  await fixture.direct.query(`
    -- a bypass that worked leaves rt2_s a view
    do $$ begin if exists (select from pg_class where relname = 'rt2_s' and relkind = 'v') then drop view rt2_s; end if; end $$;
    drop table if exists customers, payment_methods, victims, rt2_s cascade;
    drop aggregate if exists rt2_set(text, boolean);
    drop operator if exists ##> (tsquery, text);
    drop function if exists rt2_flip(), rt2_sjis(), rt2_now();
    create table customers (id int primary key, name text, notes text);
    insert into customers values (1, 'Ada', ${LARGE});
    create table payment_methods (id int, card text, notes text);
    insert into payment_methods values (1, '4111111111111111', ${LARGE});
    create table victims (id int primary key, v text);
    insert into victims select g, 'row ' || g from generate_series(1, 5) g;
  `);
});

async function session(role: string): Promise<Wire> {
  return Wire.open(fixture.gw.proxy.port, "barrier", await fixture.gw.token(role));
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

/** sends `frames` in one write after the `setup` queries; the trace up to `ready` ReadyForQuery, or to the session's end */
async function pipelined(role: string, setup: string[], frames: Buffer[], ready: number): Promise<{ setup: string[]; out: string; closed: boolean }> {
  const w = await session(role);
  try {
    const done: string[] = [];
    for (const s of setup) {
      w.send(Query(s));
      done.push(trace(await w.untilReady()).join(" | "));
    }
    w.send(...frames);
    const { messages, closed } = await w.untilReadyOrClosed(ready);
    return { setup: done, out: trace(messages).join(" | "), closed };
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

const BARRIER = /E:42501 statement denied: this text cannot be sent while an earlier statement that may run code is unanswered/;

describe("RT2-5: refused builtins reached through DDL by an identity allowed `create`", () => {
  it("control: the smuggled text alone is one allowed SELECT, and DROP TABLE needs review", async () => {
    const [smuggled, drop] = await run("deploy", SMUGGLED, "DROP TABLE victims");
    expect(smuggled).toContain("C:SELECT 1");
    expect(drop).toMatch(/E:42501 approval required/);
    expect(await victims()).toEqual(UNTOUCHED);
  });

  it("(a) refuses CREATE AGGREGATE … (SFUNC = set_config), so a pipelined call cannot turn standard_conforming_strings off", async () => {
    const { setup, out } = await pipelined(
      "deploy",
      ["CREATE AGGREGATE rt2_set(text, boolean) (SFUNC = set_config, STYPE = text, INITCOND = 'standard_conforming_strings')"],
      [Parse("SELECT rt2_set('off', false)"), Bind(), Execute(), Query(SMUGGLED), Sync()],
      1, // the failed Parse skips the rest up to Sync, the Query too
    );
    expect(setup[0]).toMatch(/E:42501 statement denied: CREATE AGGREGATE naming set_config\(\) \(sfunc\) is not allowed through the gateway/);
    expect(out).toMatch(/function rt2_set\(unknown, boolean\) does not exist/);
    expect((await fixture.direct.query("select count(*)::int as n from pg_proc where proname = 'rt2_set'")).rows[0].n).toBe(0);
    expect(await victims()).toEqual(UNTOUCHED);
  });

  it("(b) refuses the \"_RETURN\" rule that would turn a table LIKE pg_settings into an updatable view over it", async () => {
    const { setup, out } = await pipelined(
      "deploy",
      ["CREATE TABLE rt2_s (LIKE pg_settings)", "CREATE RULE \"_RETURN\" AS ON SELECT TO rt2_s DO INSTEAD SELECT * FROM pg_settings"],
      [Parse("UPDATE rt2_s SET setting = 'off' WHERE name = 'standard_conforming_strings'"), Bind(), Execute(), Query(SMUGGLED), Sync()],
      2,
    );
    expect(setup[0]).toContain("C:CREATE TABLE");
    expect(setup[1]).toMatch(/E:42501 statement denied: a rule naming pg_settings is not allowed through the gateway/);
    expect(out).toContain("C:UPDATE 0");
    expect((await fixture.direct.query("select relkind from pg_class where relname = 'rt2_s'")).rows).toEqual([{ relkind: "r" }]);
    expect(await victims()).toEqual(UNTOUCHED);
  });

  it("(c) refuses CREATE OPERATOR … (FUNCTION = ts_rewrite): no SQL text runs to read a denied table", async () => {
    const [op, denied, read] = await run(
      "deploy",
      "CREATE OPERATOR ##> (LEFTARG = tsquery, RIGHTARG = text, FUNCTION = ts_rewrite)",
      "SELECT card FROM payment_methods",
      "SELECT 'a'::tsquery ##> 'select ''a''::tsquery, card::tsquery from payment_methods'",
    );
    expect(op).toMatch(/E:42501 statement denied: CREATE OPERATOR naming ts_rewrite\(\) \(function\) is not allowed/);
    expect(denied).toMatch(/E:42501 statement denied: payment data/);
    expect(read).toMatch(/operator does not exist/);
    expect(read).not.toContain("4111111111111111");
  });
});

describe("RT2-5: the pipeline barrier, for code whose body the facts cannot read", () => {
  const FLIP = "CREATE FUNCTION rt2_flip() RETURNS text LANGUAGE sql AS $$ SELECT set_config('standard_conforming_strings', 'off', false) $$";
  const SJIS = "CREATE FUNCTION rt2_sjis() RETURNS text LANGUAGE sql AS $$ SELECT set_config('client_encoding', 'SJIS', false) $$";

  it("refuses a Query with a backslash in a '…' string pipelined behind an Execute that may run code", async () => {
    const w = await session("deploy");
    try {
      w.send(Query(FLIP));
      expect(trace(await w.untilReady()).join(" | ")).toContain("C:CREATE FUNCTION");
      w.send(Parse("SELECT rt2_flip()"), Bind(), Execute(), Query(SMUGGLED), Sync());
      const out = trace(await w.untilReady(2)).join(" | ");
      expect(out).toContain("D:off");
      expect(out).toMatch(BARRIER);
      expect(out).toMatch(/backslash in a '…' string/);
      // the refusal's error aborted the implicit transaction the function changed the setting in
      w.send(Query("SHOW standard_conforming_strings"));
      expect(trace(await w.untilReady()).join(" | ")).toContain("D:on");
    } finally {
      w.close();
    }
    expect(await victims()).toEqual(UNTOUCHED);
  });

  it("refuses it as a Parse, and behind a simple Query (whose report then ends the session)", async () => {
    const asParse = await pipelined("deploy", [FLIP], [Parse("SELECT rt2_flip()"), Bind(), Execute(), Parse(SMUGGLED), Bind(), Execute(), Sync()], 1);
    expect(asParse.out).toMatch(BARRIER);
    expect(await victims()).toEqual(UNTOUCHED);
    await fixture.direct.query("drop function rt2_flip()");
    const refusals = fixture.gw.statements.length;
    const behindQuery = await pipelined("deploy", [FLIP], [Query("SELECT rt2_flip()"), Query(SMUGGLED)], 2);
    // the first Query committed the change: the server reports it at its ReadyForQuery, the gateway ends the session
    expect(behindQuery.out).toMatch(/E:55000 the server turned standard_conforming_strings off/);
    expect(behindQuery.closed).toBe(true);
    // the smuggling text had been refused before that (the client may not see it: the session ended first)
    expect(fixture.gw.statements.slice(refusals).some((s) => s.effect === "deny" && /cannot be sent while an earlier statement/.test(s.reason))).toBe(true);
    expect(await victims()).toEqual(UNTOUCHED);
  });

  it("refuses non-ASCII text behind code that may change client_encoding (a trailing byte read as a backslash in SJIS)", async () => {
    const { setup, out } = await pipelined("deploy", [SJIS], [Parse("SELECT rt2_sjis()"), Bind(), Execute(), Query(SMUGGLED_SJIS), Sync()], 2);
    expect(setup[0]).toContain("C:CREATE FUNCTION");
    expect(out).toMatch(BARRIER);
    expect(out).toMatch(/non-ASCII bytes/);
    expect(await victims()).toEqual(UNTOUCHED);
  });

  it("ends the session when code moves client_encoding to an ASCII-safe encoding too", async () => {
    const { out, closed } = await pipelined(
      "deploy",
      ["CREATE FUNCTION rt2_sjis() RETURNS text LANGUAGE sql AS $$ SELECT set_config('client_encoding', 'LATIN1', false) $$"],
      [Query("SELECT rt2_sjis()")],
      1,
    );
    expect(out).toMatch(/E:55000 the server's client_encoding became LATIN1/);
    expect(closed).toBe(true);
  });

  it("lets texts through that read the same under any setting, and sensitive ones once the earlier results are back", async () => {
    await fixture.direct.query("create function rt2_now() returns timestamptz language sql as 'select now()'");
    const w = await session("deploy");
    try {
      // behind code: no backslash, a backslash outside '…' strings, a backslash in a comment
      w.send(Parse("SELECT rt2_now()"), Bind(), Execute(), Query("SELECT 'plain', E'tab\\there', $$back\\slash$$ -- \\"), Sync());
      const first = trace(await w.untilReady(2)).join(" | ");
      expect(first).not.toMatch(/42501/);
      expect(first).toContain("D:plain,tab\there,back\\slash");
      // answered: the same sensitive text goes through
      w.send(Query("SELECT 'a\\b', 'café'"));
      expect(trace(await w.untilReady()).join(" | ")).toContain("D:a\\b,café");
      // behind statements that run no code
      w.send(Query("BEGIN"), Query("SELECT 1"), Query("SHOW standard_conforming_strings"), Query("SELECT 'x\\y', 'é'"), Query("ROLLBACK"));
      const quiet = trace(await w.untilReady(5)).join(" | ");
      expect(quiet).not.toMatch(/42501/);
      expect(quiet).toContain("D:x\\y,é");
    } finally {
      w.close();
    }
  });

  it("counts a Bind of the unnamed statement as code when the Parse names a domain parameter type (its CHECK runs at Bind)", async () => {
    await fixture.direct.query(`
      drop domain if exists rt3_flipping;
      drop function if exists rt3_flip_check(text);
      create function rt3_flip_check(text) returns boolean language sql as $$ select set_config('standard_conforming_strings', 'off', false) is not null $$;
      create domain rt3_flipping as text check (rt3_flip_check(value));
    `);
    try {
      const oid = Number((await fixture.direct.query("select 'rt3_flipping'::regtype::oid as oid")).rows[0].oid);
      const { out } = await pipelined(
        "deploy",
        [],
        [serialize.parse({ text: "SELECT $1", types: [oid] }), serialize.bind({ values: ["x"] }), Execute(), Query(SMUGGLED), Sync()],
        2,
      );
      expect(out).toMatch(BARRIER);
      expect(await victims()).toEqual(UNTOUCHED);
      // a built-in parameter type runs no code: the same text passes behind it
      const plain = await pipelined("deploy", [], [serialize.parse({ text: "SELECT $1", types: [25] }), serialize.bind({ values: ["x"] }), Execute(), Query("SELECT 'a\\b'"), Sync()], 2);
      expect(plain.out).not.toMatch(/42501/);
    } finally {
      await fixture.direct.query("drop domain rt3_flipping; drop function rt3_flip_check(text)");
    }
  });

  it("follows the unnamed statement: a driver's BEGIN pipelined before non-ASCII text passes (JDBC's batches)", async () => {
    const w = await session("deploy");
    try {
      w.send(
        Parse("BEGIN"), Bind(), Execute(),
        Parse("INSERT INTO victims (id, v) VALUES (6, 'café')"), Bind(), Execute(),
        Parse("COMMIT"), Bind(), Execute(),
        Sync(),
      );
      const out = trace(await w.untilReady()).join(" | ");
      expect(out).not.toMatch(/42501/);
      expect(out).toContain("C:INSERT 0 1");
      // …but not behind the INSERT (a table may have triggers): the next text waits for its results
      w.send(Parse("INSERT INTO victims (id, v) VALUES (7, 'x')"), Bind(), Execute(), Parse("SELECT 'é'"), Bind(), Execute(), Sync());
      expect(trace(await w.untilReady()).join(" | ")).toMatch(BARRIER);
    } finally {
      w.close();
    }
    expect(await victims()).toEqual([...UNTOUCHED, "6:café"]);
  });
});

describe("RT2-3: TOAST relations", () => {
  async function toastOf(table: string): Promise<string> {
    return (await fixture.direct.query("select reltoastrelid::regclass::text as t from pg_class where relname = $1", [table])).rows[0].t as string;
  }

  it("refuses reading a denied table's values from its TOAST relation", async () => {
    const toast = await toastOf("payment_methods");
    expect(toast).toMatch(/^pg_toast\.pg_toast_\d+$/);
    // the values are there to read
    expect((await fixture.direct.query(`select count(*)::int as n from ${toast}`)).rows[0].n).toBeGreaterThan(0);
    const [denied, name, chunks] = await run(
      "app",
      "SELECT notes FROM payment_methods",
      "SELECT reltoastrelid::regclass FROM pg_class WHERE relname = 'payment_methods'",
      `SELECT encode(substr(chunk_data, 1, 40), 'escape') FROM ${toast} ORDER BY chunk_id, chunk_seq LIMIT 1`,
    );
    expect(denied).toMatch(/E:42501 statement denied: payment data/);
    expect(name).toContain(`D:${toast}`);
    expect(chunks).toMatch(new RegExp(`E:42501 statement denied: ${toast.replace(".", "\\.")} is not allowed through the gateway: a TOAST relation`));
    expect(chunks).not.toContain("4111111111111111");
  });

  it("refuses reading a masked column's values from its TOAST relation; an unqualified name does not resolve", async () => {
    const toast = await toastOf("customers");
    const [masked, chunks, bare] = await run(
      "reader",
      "SELECT notes FROM customers",
      `SELECT encode(substr(chunk_data, 1, 40), 'escape') FROM ${toast} LIMIT 1`,
      `SELECT encode(substr(chunk_data, 1, 40), 'escape') FROM ${toast.split(".")[1]} LIMIT 1`,
    );
    expect(masked).not.toContain("4111111111111111");
    expect(chunks).toMatch(/E:42501 statement denied: pg_toast\.pg_toast_\d+ is not allowed through the gateway/);
    expect(bare).toMatch(/E:42P01 relation "pg_toast_\d+" does not exist/);
    for (const out of [chunks, bare]) expect(out).not.toContain("4111111111111111");
  });
});

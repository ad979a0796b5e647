// Statement and portal names (docs/masking.md, "Statement and portal names"): the gateway maps a
// name to the statement it decided only once the server confirmed it, forgets it when the server
// refuses or skips it, on Close, at the end of a transaction, and when a statement may create,
// replace or drop named statements or cursors (PREPARE, DEALLOCATE, DECLARE, CLOSE, DISCARD, DO,
// CALL, opaque code). A name it does not know takes the session's strongest mask. Also: the
// ParameterStatus values a statement can set are scrubbed in sessions with masks. Through the
// gateway against the machine's real PostgreSQL, message by message.

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropDatabase, freshDatabase, PG, startGateway, type Gateway } from "./support/pg-gateway.js";
import { errorCodes, parameterStatuses, RawSession, rowsOf, serialize, type Message } from "./support/pg-raw-session.js";

const DB = "hoopgate_pgmasknames";

const policy = (issuer: string): string => `
connection namesdb { kind = postgres }
group readers {
  issuer = "${issuer}"
  when   = claims.role == "reader"
}
group detect {
  issuer = "${issuer}"
  when   = claims.role == "detect"
}

policy readers-masked {
  subjects    = [group.readers]
  connections = [connection.namesdb]
  allow when sql.command in [select, insert, prepare, execute, begin, commit, rollback, set, call, do, other]
  deny  when sql.tables has_any ["secrets"] { reason = "secrets are out of scope" }
  mask columns ["people.email"] { with = partial(4) }
  mask columns ["people.ssn"]
}

policy detectors {
  subjects    = [group.detect]
  connections = [connection.namesdb]
  allow when sql.command in [select, prepare, execute, begin, commit, rollback, set, other]
  mask detect [email, us_ssn]
}
`;

/** every masked value in clear */
const CLEAR = /ada@example|bob@example|123-45-6789|987-65-4321/i;
/** what the harmless statements return: proves the masked one did not run */
const HARMLESS = "select upper(name) as v, name as w from items order by id";
const MASKED = "select upper(ssn) as v, email || '' as w from people order by id";

let gw: Gateway;
let direct: pg.Client;

beforeAll(async () => {
  await freshDatabase(DB);
  direct = new pg.Client({ ...PG, database: DB });
  await direct.connect();
  await direct.query(`
    create table people (id int primary key, name text, email text, ssn text);
    insert into people values (1, 'Ada', 'ada@example.com', '123-45-6789'), (2, 'Bob', 'bob@example.org', '987-65-4321');
    create table items (id int primary key, name text);
    insert into items values (1, 'Widget'), (2, 'Gadget');
    create table secrets (id int primary key, v text);
    create table log (id int);

    -- opaque code that replaces a named statement, and one that replaces a cursor
    create function reprepare(n text) returns int language plpgsql as $$
      begin
        execute format('deallocate %I', n);
        execute format('prepare %I as select upper(ssn) as v, email || '''' as w from people order by id', n);
        return 1;
      end $$;
    create function reopen(n text) returns int language plpgsql as $$
      declare c refcursor := n;
      begin
        close c;
        open c for select upper(ssn) as v, email || '' as w from people order by id;
        return 1;
      end $$;
    -- a trigger that opens cursor "c": code no statement names
    create function open_c() returns trigger language plpgsql as $$
      declare c refcursor := 'c';
      begin
        open c for select upper(ssn) as v, email || '' as w from people order by id;
        return new;
      end $$;
    create trigger log_opens_c after insert on log for each row execute function open_c();
    create function set_app(v text) returns text language sql as $$ select set_config('application_name', v, false) $$;
  `);
  gw = await startGateway({ policy, targets: { namesdb: { ...PG, database: DB } } });
});

afterAll(async () => {
  await gw?.close();
  await direct?.end();
  await dropDatabase(DB);
});

async function session(role: string): Promise<RawSession> {
  return RawSession.open({ host: "127.0.0.1", port: gw.proxy.port, user: "ci", database: "namesdb", password: await gw.token(role) });
}

async function withSession<T>(role: string, body: (s: RawSession) => Promise<T>): Promise<T> {
  const s = await session(role);
  try {
    return await body(s);
  } finally {
    s.close();
  }
}

/** the masked statement's two rows came back, none of their values in clear */
function expectMaskedRows(out: Message[]): void {
  const rows = rowsOf(out);
  expect(errorCodes(out), JSON.stringify(rows)).toEqual([]);
  expect(rows).toHaveLength(2);
  expect(JSON.stringify(rows)).not.toMatch(CLEAR);
  // the masked statement ran, not the harmless one
  expect(JSON.stringify(rows)).not.toMatch(/WIDGET|Gadget/);
}

describe("a name maps to a statement only once the server confirmed it", () => {
  it("a re-Parse of an existing name that the server refuses (42P05) keeps the statement the server has", async () => {
    await withSession("reader", async (s) => {
      await s.run(serialize.parse({ name: "s1", text: MASKED }), serialize.sync());
      const again = await s.run(serialize.parse({ name: "s1", text: HARMLESS }), serialize.sync());
      expect(errorCodes(again)).toEqual(["42P05"]);
      expectMaskedRows(await s.run(serialize.bind({ statement: "s1" }), serialize.execute({}), serialize.sync()));
    });
  });

  it("SQL PREPARE, then a protocol Parse of the same name that fails", async () => {
    await withSession("reader", async (s) => {
      await s.run(serialize.query(`prepare s2 as ${MASKED}`));
      expect(errorCodes(await s.run(serialize.parse({ name: "s2", text: HARMLESS }), serialize.sync()))).toEqual(["42P05"]);
      expectMaskedRows(await s.run(serialize.bind({ statement: "s2" }), serialize.execute({}), serialize.sync()));
    });
  });

  it("a Parse the server skips after an error earlier in its batch does not replace the name", async () => {
    await withSession("reader", async (s) => {
      await s.run(serialize.parse({ name: "s3", text: MASKED }), serialize.sync());
      const batch = await s.run(
        serialize.parse({ name: "", text: "select 1/0" }), serialize.bind({}), serialize.execute({}),
        serialize.parse({ name: "s3", text: HARMLESS }), serialize.sync(),
      );
      expect(errorCodes(batch)).toEqual(["22012"]);
      expectMaskedRows(await s.run(serialize.bind({ statement: "s3" }), serialize.execute({}), serialize.sync()));
    });
  });

  it("a name whose Parse failed or was skipped is unknown from then on, even where the older statement was harmless (fail closed)", async () => {
    await withSession("reader", async (s) => {
      await s.run(serialize.parse({ name: "s4", text: HARMLESS }), serialize.sync());
      const known = await s.run(serialize.bind({ statement: "s4" }), serialize.execute({}), serialize.sync());
      expect(rowsOf(known)).toEqual([["WIDGET", "Widget"], ["GADGET", "Gadget"]]);
      await s.run(serialize.parse({ name: "", text: "select 1/0" }), serialize.bind({}), serialize.execute({}), serialize.parse({ name: "s4", text: MASKED }), serialize.sync());
      // the server still runs the harmless statement; the gateway no longer says which it is
      const unknown = await s.run(serialize.bind({ statement: "s4" }), serialize.execute({}), serialize.sync());
      expect(rowsOf(unknown)).toHaveLength(2);
      expect(rowsOf(unknown).map((row) => row[1])).toEqual(["Widget", "Gadget"]);
      expect(JSON.stringify(rowsOf(unknown))).not.toMatch(/WIDGET|GADGET/);
    });
  });

  it("a Bind the server refuses (42P03: cursor exists) does not map the cursor's name", async () => {
    await withSession("reader", async (s) => {
      await s.run(serialize.query(`begin; declare c cursor with hold for ${MASKED}; commit`));
      await s.run(serialize.parse({ name: "harmless", text: HARMLESS }), serialize.sync());
      expect(errorCodes(await s.run(serialize.bind({ portal: "c", statement: "harmless" }), serialize.sync()))).toEqual(["42P03"]);
      expectMaskedRows(await s.run(serialize.execute({ portal: "c" }), serialize.sync()));
    });
  });

  it("a Bind of a statement whose latest Parse the gateway refused is refused, never run on the older statement", async () => {
    await withSession("reader", async (s) => {
      await s.run(serialize.parse({ name: "s7", text: "select 'older' as v" }), serialize.sync());
      const refused = await s.run(serialize.parse({ name: "s7", text: "select v from secrets" }), serialize.sync());
      expect(errorCodes(refused)).toEqual(["42501"]);
      const bound = await s.run(serialize.bind({ statement: "s7" }), serialize.execute({}), serialize.sync());
      expect(rowsOf(bound)).toEqual([]);
      expect(errorCodes(bound)).toEqual(["42501"]);
      expect(bound.find((m) => m.type === "E")!.body.toString()).toMatch(/refused|denied/);
      // a new Parse of the name that the gateway allows is bound as usual
      await s.run(serialize.query("deallocate s7"));
      const parsed = await s.run(serialize.parse({ name: "s7", text: "select 'newer' as v" }), serialize.bind({ statement: "s7" }), serialize.execute({}), serialize.sync());
      expect(rowsOf(parsed)).toEqual([["newer"]]);
    });
  });
});

describe("statements that create, replace or drop names make them unknown", () => {
  it("DEALLOCATE and PREPARE of a name the gateway had mapped", async () => {
    await withSession("reader", async (s) => {
      await s.run(serialize.parse({ name: "s5", text: HARMLESS }), serialize.sync());
      expect(errorCodes(await s.run(serialize.query(`deallocate s5; prepare s5 as ${MASKED}`)))).toEqual([]);
      expectMaskedRows(await s.run(serialize.bind({ statement: "s5" }), serialize.execute({}), serialize.sync()));
    });
  });

  it("CLOSE and DECLARE of a portal the gateway had described", async () => {
    await withSession("reader", async (s) => {
      await s.run(serialize.query("begin"));
      await s.run(serialize.parse({ name: "h", text: HARMLESS }), serialize.bind({ portal: "c", statement: "h" }), serialize.describe({ type: "P", name: "c" }), serialize.sync());
      expect(errorCodes(await s.run(serialize.query(`close c; declare c cursor for ${MASKED}`)))).toEqual([]);
      expectMaskedRows(await s.run(serialize.execute({ portal: "c" }), serialize.sync()));
      await s.run(serialize.query("commit"));
    });
  });

  it("DISCARD ALL, then a statement of the same name prepared in SQL", async () => {
    await withSession("reader", async (s) => {
      await s.run(serialize.parse({ name: "s8", text: HARMLESS }), serialize.sync());
      expect(errorCodes(await s.run(serialize.query("discard all"), serialize.query(`prepare s8 as ${MASKED}`)))).toEqual([]);
      expectMaskedRows(await s.run(serialize.bind({ statement: "s8" }), serialize.execute({}), serialize.sync()));
    });
  });

  it("a user function that deallocates and prepares a name again (opaque code)", async () => {
    await withSession("reader", async (s) => {
      await s.run(serialize.parse({ name: "s6", text: HARMLESS }), serialize.sync());
      expect(errorCodes(await s.run(serialize.query("select reprepare('s6')")))).toEqual([]);
      expectMaskedRows(await s.run(serialize.bind({ statement: "s6" }), serialize.execute({}), serialize.sync()));
    });
  });

  it("a user function that closes and opens a cursor again (opaque code), called over the extended protocol", async () => {
    await withSession("reader", async (s) => {
      await s.run(serialize.query("begin"));
      await s.run(serialize.parse({ name: "h", text: HARMLESS }), serialize.bind({ portal: "c", statement: "h" }), serialize.describe({ type: "P", name: "c" }), serialize.sync());
      const called = await s.run(serialize.parse({ name: "", text: "select reopen('c')" }), serialize.bind({}), serialize.execute({}), serialize.sync());
      expect(errorCodes(called)).toEqual([]);
      // the client described c before the call: the gateway describes it again
      expectMaskedRows(await s.run(serialize.execute({ portal: "c" }), serialize.sync()));
    });
    await withSession("reader", async (s) => {
      await s.run(serialize.query("begin"));
      await s.run(serialize.parse({ name: "h", text: HARMLESS }), serialize.bind({ portal: "c", statement: "h" }), serialize.describe({ type: "P", name: "c" }), serialize.sync());
      expect(errorCodes(await s.run(serialize.query("select reopen('c')")))).toEqual([]);
      expectMaskedRows(await s.run(serialize.execute({ portal: "c" }), serialize.sync()));
    });
  });

  it("DO and CALL make every name unknown", async () => {
    await direct.query(`create or replace procedure reprepare_proc(n text) language plpgsql as $$ begin perform reprepare(n); end $$`);
    await withSession("reader", async (s) => {
      await s.run(serialize.parse({ name: "s9", text: HARMLESS }), serialize.parse({ name: "s10", text: HARMLESS }), serialize.sync());
      expect(errorCodes(await s.run(serialize.query("do $$ begin perform reprepare('s9'); end $$")))).toEqual([]);
      expectMaskedRows(await s.run(serialize.bind({ statement: "s9" }), serialize.execute({}), serialize.sync()));
      expect(errorCodes(await s.run(serialize.query("call reprepare_proc('s10')")))).toEqual([]);
      expectMaskedRows(await s.run(serialize.bind({ statement: "s10" }), serialize.execute({}), serialize.sync()));
    });
  });
});

describe("portals end with their transaction and on Close", () => {
  it("a portal bound in an earlier transaction: a trigger opens a cursor of that name", async () => {
    await withSession("reader", async (s) => {
      await s.run(serialize.query("begin"));
      await s.run(serialize.parse({ name: "h", text: HARMLESS }), serialize.bind({ portal: "c", statement: "h" }), serialize.describe({ type: "P", name: "c" }), serialize.sync());
      await s.run(serialize.query("commit"));
      expect(errorCodes(await s.run(serialize.query("begin; insert into log values (1)")))).toEqual([]);
      expectMaskedRows(await s.run(serialize.execute({ portal: "c" }), serialize.sync()));
      await s.run(serialize.query("rollback"));
    });
  });

  it("Close P forgets the portal: a trigger opens a cursor of that name in the same transaction", async () => {
    await withSession("reader", async (s) => {
      await s.run(serialize.query("begin"));
      const closed = await s.run(
        serialize.parse({ name: "h", text: HARMLESS }), serialize.bind({ portal: "c", statement: "h" }), serialize.describe({ type: "P", name: "c" }),
        serialize.close({ type: "P", name: "c" }), serialize.sync(),
      );
      expect(closed.map((m) => m.type).join("")).toBe("12T3Z");
      expect(errorCodes(await s.run(serialize.parse({ name: "", text: "insert into log values (1)" }), serialize.bind({}), serialize.execute({}), serialize.sync()))).toEqual([]);
      expectMaskedRows(await s.run(serialize.execute({ portal: "c" }), serialize.sync()));
      await s.run(serialize.query("rollback"));
    });
  });
});

describe("the usual prepared paths", () => {
  it("named and unnamed statements mask as before, and derived columns of unmasked tables stay in clear", async () => {
    const client = new pg.Client({ host: "127.0.0.1", port: gw.proxy.port, user: "ci", database: "namesdb", password: await gw.token("reader") });
    await client.connect();
    try {
      for (let i = 0; i < 3; i++) {
        const people = await client.query({ name: "people_by_id", text: "select id, email, upper(ssn) as s, name from people where id = $1", values: [1], rowMode: "array" });
        expect(people.rows).toHaveLength(1);
        expect(JSON.stringify(people.rows)).not.toMatch(CLEAR);
        expect(people.rows[0]![0]).toBe(1);
        expect(people.rows[0]![3]).toBe("Ada");
        const items = await client.query({ name: "items_lower", text: "select lower(name) as n from items order by id", rowMode: "array" });
        expect(items.rows).toEqual([["widget"], ["gadget"]]);
        const unnamed = await client.query({ text: "select email, lower(name) from people where id = $1", values: [2], rowMode: "array" });
        expect(JSON.stringify(unnamed.rows)).not.toMatch(CLEAR);
        expect(unnamed.rows).toHaveLength(1);
        const simple = await client.query({ text: "select upper(name) from items order by id", rowMode: "array" });
        expect(simple.rows).toEqual([["WIDGET"], ["GADGET"]]);
      }
    } finally {
      await client.end();
    }
  });

  it("a portal executed in pieces (row limit, PortalSuspended) keeps its plan", async () => {
    await withSession("reader", async (s) => {
      const out = await s.run(
        serialize.parse({ name: "p", text: MASKED }), serialize.bind({ portal: "p1", statement: "p" }), serialize.describe({ type: "P", name: "p1" }),
        serialize.parse({ name: "q", text: HARMLESS }), serialize.bind({ portal: "q1", statement: "q" }),
        serialize.execute({ portal: "p1", rows: 1 }), serialize.execute({ portal: "q1", rows: 1 }),
        serialize.execute({ portal: "p1", rows: 1 }), serialize.execute({ portal: "q1", rows: 1 }), serialize.sync(),
      );
      expect(errorCodes(out)).toEqual([]);
      const rows = rowsOf(out);
      expect(rows).toHaveLength(4);
      expect(JSON.stringify(rows)).not.toMatch(CLEAR);
      expect([rows[1], rows[3]]).toEqual([["WIDGET", "Widget"], ["GADGET", "Gadget"]]);
    });
  });

  it("pgbench-like: one statement per name bound again and again, pipelined", async () => {
    await withSession("reader", async (s) => {
      await s.run(
        serialize.parse({ name: "item", text: "select id, upper(name) as n from items where id = $1" }),
        serialize.parse({ name: "person", text: "select id, upper(ssn) as s, email from people where id = $1" }),
        serialize.sync(),
      );
      const rounds = 2_000;
      const frames: Buffer[] = [];
      for (let i = 0; i < rounds; i++) {
        const id = String((i % 2) + 1);
        frames.push(serialize.bind({ statement: i % 3 === 0 ? "person" : "item", values: [id] }), serialize.describe({ type: "P" }), serialize.execute({}), serialize.sync());
      }
      const started = performance.now();
      const out = await s.run(...frames);
      const ms = performance.now() - started;
      console.log(`${rounds} Bind/Describe/Execute/Sync rounds through the gateway in ${ms.toFixed(0)} ms`);
      expect(errorCodes(out)).toEqual([]);
      const rows = rowsOf(out);
      expect(rows).toHaveLength(rounds);
      rows.forEach((row, i) => {
        const id = String((i % 2) + 1);
        if (i % 3 === 0) {
          expect(row[0]).toBe(id);
          expect(JSON.stringify(row)).not.toMatch(CLEAR);
        } else {
          expect(row).toEqual([id, id === "1" ? "WIDGET" : "GADGET"]);
        }
      });
    });
  });
});

describe("ParameterStatus values in sessions with masks", () => {
  const SET_CONFIG = "select set_config('application_name', email || ' ' || ssn, false) is not null from people where id = 1";

  it("column masks: a parameter a statement can set to a computed value is replaced; the protocol's own pass", async () => {
    await withSession("reader", async (s) => {
      // refused (set_config of a masked value) or run: either way no value comes back in clear
      const out = await s.run(serialize.query(SET_CONFIG));
      expect(JSON.stringify(parameterStatuses(out))).not.toMatch(CLEAR);
      const viaFunction = await s.run(serialize.query("select set_app(email || ' ' || ssn) is not null from people where id = 1"));
      expect(errorCodes(viaFunction)).toEqual([]);
      const status = parameterStatuses(viaFunction);
      expect(status.map(([name]) => name)).toContain("application_name");
      expect(JSON.stringify(status)).not.toMatch(CLEAR);
      expect(status.find(([name]) => name === "application_name")![1]).toMatch(/REDACTED by hoopgate/);
      // the extended protocol reports it at Sync
      const extended = await s.run(serialize.parse({ text: "select set_app(ssn) is not null from people where id = 2" }), serialize.bind({}), serialize.execute({}), serialize.sync());
      expect(JSON.stringify(parameterStatuses(extended))).not.toMatch(CLEAR);
      expect(parameterStatuses(extended).find(([name]) => name === "application_name")![1]).toMatch(/REDACTED by hoopgate/);
      // TimeZone and DateStyle are read by drivers: verbatim
      const set = await s.run(serialize.query("set timezone = 'Europe/Paris'; set datestyle = 'ISO, DMY'"));
      expect(parameterStatuses(set)).toEqual(expect.arrayContaining([["TimeZone", "Europe/Paris"], ["DateStyle", "ISO, DMY"]]));
    });
  });

  it("detectors: the detectors run over every value", async () => {
    await withSession("detect", async (s) => {
      const out = await s.run(serialize.query(SET_CONFIG));
      expect(errorCodes(out)).toEqual([]);
      const value = parameterStatuses(out).find(([name]) => name === "application_name")?.[1];
      expect(value).toBeDefined();
      expect(value).not.toMatch(CLEAR);
      expect(value).toMatch(/REDACTED/);
      // a value without a detection is left as it is
      const plain = await s.run(serialize.query("set application_name = 'nightly-report'"));
      expect(parameterStatuses(plain)).toEqual([["application_name", "nightly-report"]]);
    });
  });
});

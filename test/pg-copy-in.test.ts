// COPY FROM STDIN through the gateway with the Syncs clients send around it: PostgreSQL ignores
// a Sync (and Flush) while it is in COPY FROM STDIN — libpq sends one right after an extended
// COPY's Execute — so such a Sync gets no ReadyForQuery. Each answer must still be paired with
// the statement it answers: every statement after the COPY is recorded with its own text and
// rows (red team round 4: a stray Sync shifted every later record by one, and the last
// statement went unrecorded). Against the machine's real PostgreSQL.

import { beforeEach, describe, expect, it } from "vitest";
import { gatewayFixture } from "./support/pg-gateway.js";
import { errorFields, RawSession, serialize, type Message } from "./support/pg-raw-session.js";

const DB = "hoopgate_copy_in";

const policy = (issuer: string): string => `
connection copydb { kind = postgres }
group bots {
  issuer = "${issuer}"
  when   = claims.role == "bot"
}
policy load {
  subjects    = [group.bots]
  connections = [connection.copydb]
  allow when sql.command in [select, insert, delete, copy]
}
`;

const fixture = gatewayFixture(DB, "copydb", policy);

beforeEach(async () => {
  await fixture.direct.query("drop table if exists loaded, victims; create table loaded (id int); create table victims (id int); insert into victims select generate_series(1, 5)");
});

function session(): Promise<RawSession> {
  return fixture.session("bot");
}

async function until(raw: RawSession, type: string): Promise<Message[]> {
  const seen: Message[] = [];
  for (let m = await raw.next(); ; m = await raw.next()) {
    seen.push(m);
    if (m.type === type) return seen;
  }
}

const data = (text: string): Buffer => serialize.copyData(Buffer.from(text));
const tags = (messages: Message[]): string[] => messages.filter((m) => m.type === "C").map((m) => m.body.toString("utf8", 0, m.body.length - 1));

/** the records of statements that ran after the COPY, as text → rows */
function recordsAfter(from: number): [string, number][] {
  return fixture.gw.statements.slice(from).map((s) => [s.text, s.rows]);
}

describe("Syncs sent during COPY FROM STDIN", () => {
  it("a Sync between the data and CopyDone (simple protocol): one ReadyForQuery, every later statement recorded as itself", async () => {
    const raw = await session();
    try {
      const from = fixture.gw.statements.length;
      raw.send(serialize.query("COPY loaded FROM STDIN"));
      await until(raw, "G");
      raw.send(data("7\n"), serialize.sync(), serialize.copyDone());
      expect(tags(await raw.untilReady())).toEqual(["COPY 1"]);
      expect(tags(await raw.run(serialize.query("DELETE FROM victims WHERE id > 3")))).toEqual(["DELETE 2"]);
      expect(tags(await raw.run(serialize.query("INSERT INTO loaded VALUES (8)")))).toEqual(["INSERT 0 1"]);
      expect(tags(await raw.run(serialize.query("SELECT count(*) FROM loaded")))).toEqual(["SELECT 1"]);
      expect(recordsAfter(from)).toEqual([
        ["COPY loaded FROM STDIN", 0],
        ["DELETE FROM victims WHERE id > 3", 0],
        ["INSERT INTO loaded VALUES (8)", 0],
        ["SELECT count(*) FROM loaded", 1],
      ]);
    } finally {
      raw.close();
    }
  });

  it("as libpq sends an extended COPY (Sync after Execute, Sync after CopyDone), waiting for CopyInResponse or pipelined", async () => {
    for (const pipelined of [false, true]) {
      const raw = await session();
      try {
        const from = fixture.gw.statements.length;
        const start = [serialize.parse({ text: "COPY loaded FROM STDIN" }), serialize.bind({}), serialize.execute({}), serialize.sync()];
        const rest = [data("1\n2\n"), serialize.copyDone(), serialize.sync()];
        if (pipelined) {
          raw.send(...start, ...rest);
        } else {
          raw.send(...start);
          await until(raw, "G");
          raw.send(...rest);
        }
        const answers = await raw.untilReady();
        expect(tags(answers)).toEqual(["COPY 2"]);
        expect(tags(await raw.run(serialize.query("DELETE FROM victims WHERE id = 1")))).toEqual(["DELETE 1"]);
        expect(tags(await raw.run(serialize.parse({ text: "SELECT id FROM loaded ORDER BY id" }), serialize.bind({}), serialize.execute({}), serialize.sync()))).toEqual(["SELECT 2"]);
        expect(recordsAfter(from)).toEqual([
          ["COPY loaded FROM STDIN", 0],
          ["DELETE FROM victims WHERE id = 1", 0],
          ["SELECT id FROM loaded ORDER BY id", 2],
        ]);
      } finally {
        raw.close();
      }
      await fixture.direct.query("truncate loaded; truncate victims; insert into victims select generate_series(1, 5)");
    }
  });

  it("a COPY that fails before its data, and one that fails on its data: the Syncs are answered as the server answers them", async () => {
    const raw = await session();
    try {
      // no such table: the Execute fails, the server never enters COPY and answers the Sync
      const missing = await raw.run(serialize.parse({ text: "COPY nowhere FROM STDIN" }), serialize.bind({}), serialize.execute({}), serialize.sync());
      expect(errorFields(missing.find((m) => m.type === "E")!).C).toBe("42P01");
      // bad data: the COPY fails in the middle; the Sync after CopyDone ends the skipped batch
      raw.send(serialize.parse({ text: "COPY loaded FROM STDIN" }), serialize.bind({}), serialize.execute({}), serialize.sync());
      await until(raw, "G");
      raw.send(data("not a number\n"), serialize.copyDone(), serialize.sync());
      const bad = await raw.untilReady();
      expect(errorFields(bad.find((m) => m.type === "E")!).C).toBe("22P02");
      const from = fixture.gw.statements.length;
      expect(tags(await raw.run(serialize.query("DELETE FROM victims")))).toEqual(["DELETE 5"]);
      expect(recordsAfter(from)).toEqual([["DELETE FROM victims", 0]]);
    } finally {
      raw.close();
    }
  });

  it("a Sync among the data of a COPY that fails on that data: the server would answer it, so it does not get it; every answer stays paired", async () => {
    for (const extended of [false, true]) {
      const raw = await session();
      try {
        const from = fixture.gw.statements.length;
        raw.send(...(extended
          ? [serialize.parse({ text: "COPY loaded FROM STDIN" }), serialize.bind({}), serialize.execute({}), serialize.sync()]
          : [serialize.query("COPY loaded FROM STDIN")]));
        await until(raw, "G");
        raw.send(data("notanint\n"), serialize.sync(), serialize.copyDone(), ...(extended ? [serialize.sync()] : []),
          serialize.query("SELECT 42"), serialize.query("SELECT 43"));
        const answers = await raw.untilReady(3);
        expect(answers.map((m) => m.type).join("")).toMatch(/^E(N)?Z(T?D?C?)+Z(T?D?C?)+Z$/);
        expect(tags(answers)).toEqual(["SELECT 1", "SELECT 1"]);
        expect(fixture.gw.statements.slice(from).map((r) => [r.text, r.rows])).toEqual([
          ["COPY loaded FROM STDIN", 0],
          ["SELECT 42", 1],
          ["SELECT 43", 1],
        ]);
      } finally {
        raw.close();
      }
    }
  });

  it("an error answering a message that stands for no statement is not written on the next statement's record", async () => {
    const raw = await session();
    try {
      const from = fixture.gw.statements.length;
      await raw.run(serialize.describe({ type: "S", name: "nope" }), serialize.sync());
      await raw.run(serialize.query("SELECT 42"));
      expect(fixture.gw.statements.slice(from).map((r) => [r.text, r.error])).toEqual([["SELECT 42", undefined]]);
    } finally {
      raw.close();
    }
  });

  it("a COPY that fails right after CopyInResponse, before reading the Sync sent behind it: the session ends rather than pair answers wrongly", async () => {
    const raw = await session();
    const from = fixture.gw.statements.length;
    // COPY FREEZE fails after CopyInResponse, without reading anything more: the server answers the Sync
    raw.send(
      serialize.parse({ text: "COPY loaded FROM STDIN (FREEZE)" }), serialize.bind({}), serialize.execute({}), serialize.sync(),
      serialize.copyDone(), serialize.query("SELECT 42"), serialize.sync(), serialize.query("SELECT pg_sleep(0.3)"), serialize.sync(),
    );
    const seen: Message[] = [];
    for (;;) {
      const m = await raw.next().catch(() => undefined);
      if (m === undefined) break;
      seen.push(m);
    }
    const fatal = seen.find((m) => m.type === "E" && errorFields(m).S === "FATAL");
    expect(fatal === undefined ? undefined : errorFields(fatal)).toMatchObject({ C: "08P01", M: expect.stringMatching(/COPY FROM STDIN failed after Syncs/) });
    expect(seen.some((m) => m.type === "D")).toBe(false);
    // nothing recorded under another statement's text
    expect(fixture.gw.statements.slice(from).every((r) => r.rows === 0)).toBe(true);
  });

  it("after a COPY the server ended with an error, the client's next Syncs reach it again (no CopyDone needed)", async () => {
    const raw = await session();
    try {
      raw.send(serialize.query("COPY loaded FROM STDIN"));
      await until(raw, "G");
      raw.send(data("bad\n"));
      await raw.untilReady();
      const next = await raw.run(serialize.parse({ text: "SELECT 1" }), serialize.bind({}), serialize.execute({}), serialize.sync());
      expect(tags(next)).toEqual(["SELECT 1"]);
    } finally {
      raw.close();
    }
  });
});

// SQL FETCH and MOVE share the portal namespace with the protocol's Bind: `MOVE ALL IN q` ran
// the UPDATE a protocol portal q was bound to, and only the MOVE was recorded (red team round
// 4; an approved statement's portal the same, without its approval id). The gateway records a
// portal's statement at its Execute, so FETCH and MOVE of a portal bound through the protocol
// are refused; SQL cursors work as before. A statement's row limit counts every Execute of its
// portal, not each one alone (red team round 4: 100 Executes of 10 rows passed a limit of 10).
// Against the machine's real PostgreSQL.

import { beforeEach, describe, expect, it } from "vitest";
import { gatewayFixture } from "./support/pg-gateway.js";
import { errorFields, RawSession, rowsOf, serialize, type Message } from "./support/pg-raw-session.js";

const DB = "hoopgate_fetch_portals";

const policy = (issuer: string): string => `
connection cursors { kind = postgres }
group bots {
  issuer = "${issuer}"
  when   = claims.role == "bot"
}
policy work {
  subjects    = [group.bots]
  connections = [connection.cursors]
  allow when sql.command in [select, update, begin, commit, rollback, other]
  limit rows = 3 per statement
}
`;

const fixture = gatewayFixture(DB, "cursors", policy);

beforeEach(async () => {
  await fixture.direct.query("drop table if exists items; create table items (id int); insert into items select generate_series(1, 5)");
});

function session(): Promise<RawSession> {
  return fixture.session("bot");
}

function errorOf(messages: Message[]): Record<string, string> | undefined {
  const error = messages.find((m) => m.type === "E");
  return error === undefined ? undefined : errorFields(error);
}

async function ids(): Promise<number[]> {
  return (await fixture.direct.query<{ id: number }>("select id from items order by id")).rows.map((r) => r.id);
}

describe("SQL FETCH and MOVE of a portal bound through the protocol", () => {
  it("are refused: the portal's UPDATE does not run under a FETCH's record", async () => {
    for (const sql of ["MOVE ALL IN q", "FETCH ALL FROM q", "SELECT 1; FETCH 1 IN \"q\""]) {
      const raw = await session();
      try {
        await raw.run(serialize.query("BEGIN"));
        const bound = await raw.run(serialize.parse({ text: "UPDATE items SET id = id + 100 WHERE id > 0 RETURNING id" }), serialize.bind({ portal: "q" }), serialize.sync());
        expect(errorOf(bound)).toBeUndefined();
        expect(errorOf(await raw.run(serialize.query(sql)))).toMatchObject({ C: "42501", M: expect.stringMatching(/cursor "q" is a portal bound through the protocol: run it with Execute/) });
        await raw.run(serialize.query("ROLLBACK"));
      } finally {
        raw.close();
      }
      expect(await ids()).toEqual([1, 2, 3, 4, 5]);
    }
  });

  it("are refused after a Close the server skipped (an error before it in the batch): the portal is still there", async () => {
    const raw = await session();
    try {
      await raw.run(serialize.query("BEGIN"));
      await raw.run(serialize.parse({ text: "UPDATE items SET id = id + 100 WHERE id > 0 RETURNING id" }), serialize.bind({ portal: "q" }), serialize.sync());
      await raw.run(serialize.query("SAVEPOINT s"));
      const skipped = await raw.run(serialize.parse({ text: "SELEC 1" }), serialize.close({ type: "P", name: "q" }), serialize.sync());
      expect(errorOf(skipped)).toMatchObject({ C: "42501" }); // refused: the sentinel fails in the server, which skips the Close
      await raw.run(serialize.query("ROLLBACK TO SAVEPOINT s"));
      expect(errorOf(await raw.run(serialize.query("FETCH ALL FROM q")))).toMatchObject({ C: "42501", M: expect.stringMatching(/cursor "q" is a portal bound through the protocol/) });
      await raw.run(serialize.query("COMMIT"));
    } finally {
      raw.close();
    }
    expect(await ids()).toEqual([1, 2, 3, 4, 5]);
  });

  it("leave SQL cursors alone, also one named like a portal the client closed", async () => {
    const raw = await session();
    try {
      await raw.run(serialize.query("BEGIN"));
      await raw.run(serialize.parse({ text: "SELECT id FROM items" }), serialize.bind({ portal: "c" }), serialize.close({ type: "P", name: "c" }), serialize.sync());
      expect(errorOf(await raw.run(serialize.query("DECLARE c CURSOR FOR SELECT id FROM items ORDER BY id")))).toBeUndefined();
      const fetched = await raw.run(serialize.query("FETCH 2 FROM c"));
      expect(rowsOf(fetched)).toEqual([["1"], ["2"]]);
      expect(errorOf(await raw.run(serialize.query("MOVE 1 IN c")))).toBeUndefined();
      expect(rowsOf(await raw.run(serialize.query("FETCH ALL FROM c")))).toEqual([["4"], ["5"]]);
      await raw.run(serialize.query("COMMIT"));
    } finally {
      raw.close();
    }
  });
});

describe("SQL cursors named like a protocol portal whose transaction ended", () => {
  it("are read as usual: the portal went with its transaction", async () => {
    const raw = await session();
    try {
      // the implicit transaction ends at the Sync; an explicit one at COMMIT
      await raw.run(serialize.parse({ text: "SELECT 1" }), serialize.bind({ portal: "c1" }), serialize.execute({ portal: "c1" }), serialize.sync());
      await raw.run(serialize.query("BEGIN"));
      await raw.run(serialize.parse({ text: "SELECT 2" }), serialize.bind({ portal: "c2" }), serialize.sync());
      expect(errorOf(await raw.run(serialize.query("FETCH ALL FROM c2")))).toMatchObject({ C: "42501" });
      await raw.run(serialize.query("ROLLBACK"));
      const [declared, fetched] = [
        await raw.run(serialize.query("BEGIN; DECLARE c1 CURSOR FOR SELECT id FROM items ORDER BY id; DECLARE c2 CURSOR FOR SELECT 7")),
        await raw.run(serialize.query("FETCH 1 FROM c1; FETCH 1 FROM c2")),
      ];
      expect(errorOf(declared)).toBeUndefined();
      expect(rowsOf(fetched)).toEqual([["1"], ["7"]]);
      await raw.run(serialize.query("COMMIT"));
      // pipelined: the idle ReadyForQuery of the first batch comes back after the second Bind was sent
      const piped = await raw.run(
        serialize.parse({ text: "SELECT 3" }), serialize.bind({ portal: "c3" }), serialize.sync(),
        serialize.query("BEGIN"),
        serialize.parse({ text: "UPDATE items SET id = id + 100 RETURNING id" }), serialize.bind({ portal: "c3" }), serialize.sync(),
        serialize.query("FETCH ALL FROM c3"),
      );
      expect(errorOf(piped)).toMatchObject({ C: "42501", M: expect.stringMatching(/cursor "c3" is a portal bound through the protocol/) });
      await raw.run(serialize.query("ROLLBACK"));
    } finally {
      raw.close();
    }
  });
});

describe("a statement's row limit", () => {
  it("counts the rows of every Execute of its portal", async () => {
    const raw = await session();
    await raw.run(serialize.query("BEGIN"));
    const first = await raw.run(serialize.parse({ text: "SELECT id FROM items ORDER BY id" }), serialize.bind({ portal: "p" }), serialize.execute({ portal: "p", rows: 2 }), serialize.sync());
    expect(rowsOf(first)).toEqual([["1"], ["2"]]);
    expect(first.some((m) => m.type === "s")).toBe(true);
    raw.send(serialize.execute({ portal: "p", rows: 2 }), serialize.sync());
    const seen: Message[] = [];
    for (;;) {
      try {
        seen.push(await raw.next());
      } catch {
        break;
      }
    }
    expect(rowsOf(seen).length).toBeLessThanOrEqual(1);
    expect(errorOf(seen)).toMatchObject({ S: "FATAL", C: "54000", M: expect.stringMatching(/row limit of 3 per statement exceeded/) });
  });

  it("starts again for a portal bound anew", async () => {
    const raw = await session();
    try {
      await raw.run(serialize.query("BEGIN"));
      await raw.run(serialize.parse({ name: "s", text: "SELECT id FROM items ORDER BY id" }), serialize.bind({ portal: "p", statement: "s" }), serialize.execute({ portal: "p", rows: 2 }), serialize.sync());
      await raw.run(serialize.close({ type: "P", name: "p" }), serialize.sync());
      const again = await raw.run(serialize.bind({ portal: "p", statement: "s" }), serialize.execute({ portal: "p", rows: 3 }), serialize.sync());
      expect(rowsOf(again)).toEqual([["1"], ["2"], ["3"]]);
      await raw.run(serialize.query("COMMIT"));
    } finally {
      raw.close();
    }
  });
});

// What a session may make the gateway remember about names (name-limits.ts): red team round 4
// grew the gateway's heap until the process died with Parses of unique megabyte-long names, each
// refused. Through the real gateway against the machine's PostgreSQL: the session that passes a
// bound ends with FATAL 54000, another session goes on.

import { describe, expect, it } from "vitest";
import { MAX_NAME_LENGTH, MAX_NAMES, MAX_PREPARED } from "../runtime/postgres/name-limits.js";
import { gatewayFixture } from "./support/pg-gateway.js";
import { errorFields, RawSession, serialize, type Message } from "./support/pg-raw-session.js";
import { selectOnlyPolicy } from "./support/select-only-bundle.js";

const DB = "hoopgate_name_limits";

const fixture = gatewayFixture(DB, "names", (issuer) => selectOnlyPolicy(issuer, "names"));

async function session(): Promise<RawSession> {
  return fixture.session("bot");
}

/** the messages up to the session's end */
async function untilClosed(raw: RawSession): Promise<Message[]> {
  const seen: Message[] = [];
  for (;;) {
    try {
      seen.push(await raw.next());
    } catch {
      return seen;
    }
  }
}

function fatal(messages: Message[]): Record<string, string> | undefined {
  const error = messages.find((m) => m.type === "E" && errorFields(m).S === "FATAL");
  return error === undefined ? undefined : errorFields(error);
}

async function stillServes(): Promise<void> {
  const other = await session();
  try {
    const answers = await other.run(serialize.query("SELECT 1"));
    expect(answers.some((m) => m.type === "D")).toBe(true);
  } finally {
    other.close();
  }
}

describe("names a session may make the gateway remember", () => {
  it("a statement or portal name longer than the limit ends the session", async () => {
    for (const frame of [
      serialize.parse({ name: "s".repeat(MAX_NAME_LENGTH + 1), text: "SELECT 1" }),
      serialize.bind({ portal: "p".repeat(MAX_NAME_LENGTH + 1) }),
      serialize.describe({ type: "P", name: "p".repeat(MAX_NAME_LENGTH + 1) }),
    ]) {
      const raw = await session();
      raw.send(frame, serialize.sync());
      expect(fatal(await untilClosed(raw))).toMatchObject({ C: "54000", M: expect.stringMatching(/name longer than 1024 characters: session closed/) });
    }
    // at the limit it is a name like any other
    const raw = await session();
    try {
      const answers = await raw.run(serialize.parse({ name: "s".repeat(MAX_NAME_LENGTH), text: "SELECT 1" }), serialize.sync());
      expect(answers.map((m) => m.type)).toEqual(["1", "Z"]);
    } finally {
      raw.close();
    }
    await stillServes();
  });

  it(`refused Parses under unique names: past ${MAX_NAMES} the session ends`, async () => {
    const raw = await session();
    let refused = 0;
    const batch = 500;
    for (let sent = 0; sent <= MAX_NAMES; sent += batch) {
      const frames: Buffer[] = [];
      for (let i = sent; i < sent + batch; i++) frames.push(serialize.parse({ name: `n${i}`, text: "DROP TABLE t" }), serialize.sync());
      await raw.sendAll(frames);
      if (sent + batch <= MAX_NAMES) refused += (await raw.untilReady(batch)).filter((m) => m.type === "E").length;
    }
    expect(refused).toBe(MAX_NAMES);
    expect(fatal(await untilClosed(raw))).toMatchObject({ C: "54000", M: expect.stringMatching(/more than 10000 prepared statement names refused or approved/) });
    await stillServes();
  });

  it(`past ${MAX_PREPARED} prepared statements, or 32 Mi characters of their text, the oldest are forgotten: the session goes on`, async () => {
    const raw = await session();
    try {
      const batch = 1_000;
      for (let sent = 0; sent <= MAX_PREPARED; sent += batch) {
        const frames: Buffer[] = [];
        for (let i = sent; i < sent + batch; i++) frames.push(serialize.parse({ name: `s${i}`, text: `SELECT ${i} AS n` }));
        frames.push(serialize.sync());
        await raw.sendAll(frames);
        await raw.untilReady();
      }
      const from = fixture.gw.statements.length;
      // the newest first: running a statement the gateway does not know makes it forget every name
      for (const name of [`s${MAX_PREPARED + batch - 1}`, "s0"]) {
        const ran = await raw.run(serialize.bind({ statement: name }), serialize.execute({}), serialize.sync());
        expect(ran.some((m) => m.type === "D")).toBe(true);
      }
      // the oldest is unknown now (its record says so, masks would be the strongest); the newest is known
      expect(fixture.gw.statements.slice(from).map((r) => r.text)).toEqual([`SELECT ${MAX_PREPARED + batch - 1} AS n`, '-- portal "": statement unknown to the gateway']);

      const text = `SELECT 1 /* ${"x".repeat(1024 * 1024 - 64)} */`;
      const big: Buffer[] = [];
      for (let i = 0; i < 33; i++) big.push(serialize.parse({ name: `big${i}`, text }), serialize.sync());
      await raw.sendAll(big);
      await raw.untilReady(33);
      const later = fixture.gw.statements.length;
      for (const name of ["big32", "big0"]) await raw.run(serialize.bind({ statement: name }), serialize.execute({}), serialize.sync());
      expect(fixture.gw.statements.slice(later).map((r) => r.text.slice(0, 20))).toEqual(["SELECT 1 /* xxxxxxxx", '-- portal "": statem']);
    } finally {
      raw.close();
    }
  });
});

// What waits to be written in the store's audit log is bounded (runtime/audit/store-log.ts): a
// batch holds at most 1 Mi characters of records, so long statements go out in several bounded
// transactions; past half the size budget sessions stop reading their clients until the writer
// brings it under a quarter; past the backlog budget (characters waiting, or the oldest record's
// age) the log is congested and the gateway refuses new sessions until the writer catches up;
// past the hard limit records are refused and the log fails for good, though what it accepted is
// still written. Budgets are small here, and the writer a fake one the test holds: nothing large
// is allocated. Then the red team's probe in small: huge statements no longer stop the log. Last,
// its flood: thousands of refused 64 KiB statements pipelined through the gateway while the
// PostgreSQL store's writer is stuck slow the client down instead of breaking the log.

import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditBacklogError, startWriterThread, StoreAuditLog, verifyAuditLog, type BacklogBudget, type BatchWriter, type StatementRecord } from "../runtime/audit/index.js";
import type { EntryBatch } from "../runtime/audit/append.js";
import { teeAuditSink } from "../runtime/audit/tee.js";
import { createAuditPort } from "../runtime/gateway/audit-port.js";
import { startGateway } from "../runtime/gateway/index.js";
import { startDevIssuer } from "../runtime/identity/index.js";
import { createLogger } from "../runtime/log.js";
import { getSession } from "../runtime/audit/index.js";
import { MAX_REFUSED_TEXT_BYTES } from "../runtime/audit/bounds.js";
import { openStore } from "../runtime/store/index.js";
import { startApprovalGateway, startIdentities } from "./support/approval-gateway.js";
import { selectOnlyGatewayConfig, selectOnlyPolicy } from "./support/select-only-bundle.js";
import { freshDatabase, PG } from "./support/pg-gateway.js";
import { errorFields, RawSession, serialize } from "./support/pg-raw-session.js";

const logger = createLogger({ level: "silent" });

/** a writer that takes batches only while the test lets it */
function heldWriter(): BatchWriter & { batches: EntryBatch[]; hold(): void; release(): void } {
  const batches: EntryBatch[] = [];
  let held = false;
  let waiting: (() => void)[] = [];
  return {
    location: "test://held",
    batches,
    hold: () => void (held = true),
    release() {
      held = false;
      for (const go of waiting.splice(0)) go();
    },
    async write(batch) {
      if (held) await new Promise<void>((resolve) => waiting.push(resolve));
      batches.push(batch);
    },
    close: async () => undefined,
  };
}

const statement = (i: number, text = `select ${i}`): StatementRecord => ({
  session: "s1", identity: { issuer: "https://issuer.test", subject: "bot-1" }, connection: "orders",
  text, decision: "allow", rules: ["r#1"], reason: "allowed", rows: 1, bytes: 10, durationMs: 0.1,
  output: { columns: ["n"], rows: [[String(i)]], truncated: false },
});

describe("the store audit log's backlog", () => {
  it("writes long statements in batches of bounded size", async () => {
    const writer = heldWriter();
    const log = new StoreAuditLog(writer);
    const text = "\u0001".repeat(64 * 1024); // the longest text a record keeps
    await Promise.all(Array.from({ length: 40 }, (_, i) => log.statement(statement(i, text))));
    await log.close();
    expect(writer.batches.map((b) => b.types.length).reduce((a, b) => a + b)).toBe(40);
    expect(writer.batches.length).toBeGreaterThanOrEqual(3);
    for (const batch of writer.batches) expect(batch.data.reduce((n, d) => n + d.length, 0)).toBeLessThan(8 * 1024 * 1024);
  });

  it("is congested past its size budget, so the gateway's port refuses new sessions, and recovers once the writer catches up", async () => {
    const writer = heldWriter();
    const log = new StoreAuditLog(writer, { maxChars: 100_000, maxAgeMs: 60_000, overloadChars: 1_000_000 });
    const port = createAuditPort(log, logger);
    writer.hold();
    const accepted: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) accepted.push(log.statement(statement(i, "x".repeat(10_000))));
    expect(log.congestion()).toBeUndefined();
    expect(port.failure()).toBeUndefined();
    for (let i = 5; i < 12; i++) accepted.push(log.statement(statement(i, "x".repeat(10_000))));
    expect(log.backlog()).toMatchObject({ records: 12, chars: expect.any(Number) });
    expect(log.backlog().chars).toBeGreaterThan(100_000);
    const congested = log.congestion();
    expect(congested).toBeInstanceOf(AuditBacklogError);
    expect(congested?.message).toMatch(/^the audit log in store test:\/\/held is behind: 0\.1 MiB of records wait to be written, the oldest for \d+\.\d s \(budget 0\.1 MiB, 60 s\)$/);
    expect(port.failure()).toBe(congested);
    expect(log.failed()).toBeUndefined(); // it still records
    writer.release();
    await Promise.all(accepted);
    expect(log.backlog()).toEqual({ records: 0, chars: 0, oldestMs: 0 });
    expect(port.failure()).toBeUndefined();
    expect(writer.batches.flatMap((b) => b.types)).toHaveLength(12);
    await log.close();
  });

  it("asks sessions to stop reading their clients past half its size budget, until the writer brings it under a quarter", async () => {
    const writer = heldWriter();
    const log = new StoreAuditLog(writer, { maxChars: 4 * 1024 * 1024, maxAgeMs: 60_000, overloadChars: 8 * 1024 * 1024 });
    const tee = teeAuditSink([log]);
    writer.hold();
    const accepted: Promise<void>[] = [];
    for (let i = 0; i < 6; i++) accepted.push(log.statement(statement(i, "x".repeat(300_000))));
    expect(log.backpressure()).toBeUndefined();
    expect(tee.backpressure!()).toBeUndefined();
    for (let i = 6; i < 8; i++) accepted.push(log.statement(statement(i, "x".repeat(300_000))));
    const drained = log.backpressure();
    expect(drained).toBeInstanceOf(Promise);
    expect(log.backpressure()).toBe(drained);
    expect(tee.backpressure!()).toBeInstanceOf(Promise);
    expect(log.congestion()).toBeUndefined(); // sessions stop before new ones are refused
    // two batches of four (1 Mi characters a batch): after the first, 1.2 Mi still wait, over the low-water mark
    let waitingWhenDrained: number | undefined;
    void drained!.then(() => void (waitingWhenDrained = log.backlog().records));
    writer.release();
    await Promise.all(accepted);
    await drained;
    expect(writer.batches.map((b) => b.types.length)).toEqual([4, 4]);
    expect(waitingWhenDrained).toBe(0);
    expect(log.backpressure()).toBeUndefined();
    await log.close();
  });

  it("is congested while its oldest record waits past the age budget", async () => {
    const writer = heldWriter();
    const log = new StoreAuditLog(writer, { maxChars: 1_000_000, maxAgeMs: 30_000, overloadChars: 2_000_000 });
    writer.hold();
    const accepted = log.statement(statement(1));
    const now = Date.now();
    expect(log.congestion(now + 10_000)).toBeUndefined();
    expect(log.congestion(now + 31_000)?.message).toMatch(/the oldest for 3\d\.\d s \(budget 1\.0 MiB, 30 s\)$/);
    expect(log.congestion(now + 20_000)).toBeInstanceOf(AuditBacklogError); // until it is back under half
    writer.release();
    await accepted;
    expect(log.congestion()).toBeUndefined();
    await log.close();
  });

  it("past its hard limit ends the open sessions and keeps every record; it takes sessions again once it catches up", async () => {
    const writer = heldWriter();
    const log = new StoreAuditLog(writer, { maxChars: 50_000, maxAgeMs: 60_000, overloadChars: 100_000 });
    const port = createAuditPort(log, logger);
    const ends: { code: string; message: string }[] = [];
    const stop = port.onFailure((end) => void ends.push(end));
    writer.hold();
    const accepted: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) accepted.push(log.statement(statement(i, "x".repeat(10_000))));
    expect(log.backlog().chars).toBeGreaterThan(100_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(ends).toEqual([{ code: "53000", message: "the audit log is too far behind; its records are kept, connect again once it catches up", answerFirst: true }]);
    expect(log.failed()).toBeUndefined();
    expect(port.failure()).toBeInstanceOf(AuditBacklogError); // new sessions wait
    writer.release();
    await Promise.all(accepted);
    expect(writer.batches.flatMap((b) => b.types)).toHaveLength(20); // nothing lost
    expect(port.failure()).toBeUndefined(); // caught up: sessions are taken again
    // overloaded again later: told again
    writer.hold();
    const again: Promise<void>[] = [];
    for (let i = 0; i < 12; i++) again.push(log.statement(statement(i, "x".repeat(10_000))));
    await new Promise((resolve) => setImmediate(resolve));
    expect(ends).toHaveLength(2);
    stop();
    writer.release();
    await Promise.all(again);
    await log.close();
  });
});

describe("a gateway whose audit log is behind", () => {
  const DB = "hoopgate_audit_backlog";

  it("refuses new sessions until the log catches up, then takes them again", async () => {
    await freshDatabase(DB);
    const dir = await mkdtemp(join(tmpdir(), "hoopgate-audit-backlog-"));
    const issuer = await startDevIssuer();
    const writer = heldWriter();
    // behind by age: by size, past half the budget, open sessions would stop reading their clients (below)
    const sink = new StoreAuditLog(writer, { maxChars: 1_000_000, maxAgeMs: 200, overloadChars: 2_000_000 });
    const gateway = await startGateway(await selectOnlyGatewayConfig(dir, issuer, DB, { kind: "pglite", dir: join(dir, ".hoopgate") }), { logger, audit: sink });
    const connect = async (): Promise<pg.Client> => {
      const client = new pg.Client({ host: "127.0.0.1", port: gateway.ports.postgres, database: "orders", user: "bot", password: await issuer.issue({ sub: "bot-1", claims: { role: "bot" } }) });
      await client.connect();
      return client;
    };
    try {
      writer.hold(); // the store stops answering
      const client = await connect();
      for (let i = 0; i < 10; i++) await client.query(`select ${i} as n`);
      await new Promise((resolve) => setTimeout(resolve, 250)); // the oldest record waits past the budget
      await expect(connect()).rejects.toThrow('access to "orders" refused: the audit log is behind: connections are refused until it catches up');
      expect((await client.query("select 'still recorded' as n")).rows).toEqual([{ n: "still recorded" }]); // open sessions go on
      writer.release();
      await new Promise((resolve) => setTimeout(resolve, 200)); // a batch interval or two
      const again = await connect();
      expect((await again.query("select 1 as n")).rows).toEqual([{ n: 1 }]);
      await again.end();
      await client.end();
      expect(sink.failed()).toBeUndefined();
    } finally {
      writer.release();
      await gateway.close();
      await issuer.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the red team's probe, in small", () => {
  const DB = "hoopgate_audit_probe";
  let ids: Awaited<ReturnType<typeof startIdentities>>;
  let gw: Awaited<ReturnType<typeof startApprovalGateway>>;

  beforeAll(async () => {
    await freshDatabase(DB);
    ids = await startIdentities((issuer) => selectOnlyPolicy(issuer, "testdb", "reader"));
    gw = await startApprovalGateway(ids, { kind: "memory" }, { testdb: { ...PG, database: DB } });
  });

  afterAll(async () => {
    await gw?.close();
    await ids?.close();
  });

  it("denies and records statements of control characters in bounded records; one over the statement limit ends its session unread", async () => {
    const raw = await RawSession.open({ host: "127.0.0.1", port: gw.proxy.port, user: "ci", database: "testdb", password: await ids.token("reader") });
    const text = "\u0001".repeat(1024 * 1024 - 6); // a Query at the default statement limit
    const answers = await raw.run(serialize.query(text), serialize.query(text), serialize.query(text));
    expect(answers.filter((m) => m.type === "E").map((m) => errorFields(m).C)).toEqual(["42501", "42501", "42501"]);
    const header = Buffer.alloc(5);
    header[0] = 0x51;
    header.writeInt32BE(60 * 1024 * 1024, 1);
    raw.send(header);
    expect(errorFields(await raw.next())).toMatchObject({ S: "FATAL", C: "54000" });
    await expect(raw.next()).rejects.toThrow("connection closed");
    // the records are written, and another identity still gets in
    const other = gw.client(await ids.token("reader", "someone-else"));
    await other.connect();
    expect((await other.query("select 1 as n")).rows).toEqual([{ n: 1 }]);
    await other.end();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(gw.audit.failed()).toBeUndefined();
    expect(gw.audit.backlog().records).toBe(0);
    const [row] = await gw.store.query<{ session_id: string }>(`select session_id from audit_log where type = 'statement' and entry like '%textSha256%' limit 1`);
    const recorded = (await getSession(gw.store, row!.session_id))!.entries.filter((e) => e.type === "statement");
    expect(recorded).toHaveLength(3);
    for (const entry of recorded) expect(entry.data).toMatchObject({ text: "\u0001".repeat(MAX_REFUSED_TEXT_BYTES), textBytes: text.length, decision: "deny" });
  });
});

describe("a client sending refused statements as fast as it can", () => {
  const DB = "hoopgate_audit_flood";
  const STORE_URL = `postgres://postgres@127.0.0.1:5432/${DB}_store`;
  /** the writers' advisory lock (append.ts): the test holds it, as a replica stuck in a batch would */
  const APPEND_LOCK = 7_320_114_002;
  /** a sixty-fourth of the default: the flood's records are about 10 Mi characters, the hard limit 4 Mi */
  const BUDGET = { maxChars: 2 * 1024 * 1024, maxAgeMs: 60_000, overloadChars: 4 * 1024 * 1024 };
  const COUNT = 2_500;
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  /** a gateway serving DB whose audit log is the store in DB_store, written by its worker thread, with `budget` */
  async function storeLoggedGateway(prefix: string, budget: BacklogBudget) {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    const issuer = await startDevIssuer();
    const store = await openStore({ kind: "postgres", url: STORE_URL }, logger);
    const log = new StoreAuditLog(await startWriterThread(STORE_URL, store.location, logger), budget);
    const gateway = await startGateway(await selectOnlyGatewayConfig(dir, issuer, DB, { kind: "pglite", dir: join(dir, ".hoopgate") }), { logger, audit: log });
    return { dir, issuer, store, log, gateway };
  }

  it("pipelining tiny Executes of a long statement (a 64 KiB record from 20 bytes each) is bounded too: no deadlock, no failed log", async () => {
    // in flight at once: 128 unanswered messages per session, about 4 Mi characters of records here
    const budget = { maxChars: 2 * 1024 * 1024, maxAgeMs: 60_000, overloadChars: 16 * 1024 * 1024 };
    const executes = 1_000;
    await freshDatabase(DB);
    await freshDatabase(`${DB}_store`);
    const { dir, issuer, store, log, gateway } = await storeLoggedGateway("hoopgate-audit-amplify-", budget);
    const text = `select 1 as one /* ${"x".repeat(48 * 1024)} */`;
    let raw: RawSession | undefined;
    try {
      raw = await RawSession.open({ host: "127.0.0.1", port: gateway.ports.postgres!, user: "bot", database: "orders", password: await issuer.issue({ sub: "bot-1", claims: { role: "bot" } }) });
      // one write, one Sync at the end: the server holds its answers until a Sync or Flush
      const frames = [serialize.parse({ text })];
      for (let i = 0; i < executes; i++) frames.push(serialize.bind({}), serialize.execute({}));
      frames.push(serialize.sync());
      const sending = raw.sendAll(frames);
      const answers = await raw.untilReady();
      await sending;
      expect(answers.filter((m) => m.type === "E")).toEqual([]);
      expect(answers.filter((m) => m.type === "D")).toHaveLength(executes);
      expect(log.failed()).toBeUndefined();
    } finally {
      raw?.close();
      await gateway.close();
      await issuer.close();
    }
    try {
      expect(log.failed()).toBeUndefined();
      expect(await store.query(`select count(*)::int as n from audit_log where type = 'statement'`)).toEqual([{ n: executes }]);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("past the hard limit the session ends with 53000, and every statement that ran is recorded", async () => {
    // the writer stalls; one session's messages in flight pass this small hard limit
    const budget = { maxChars: 2 * 1024 * 1024, maxAgeMs: 60_000, overloadChars: 2 * 1024 * 1024 };
    await freshDatabase(DB);
    await freshDatabase(`${DB}_store`);
    const direct = new pg.Client({ ...PG, database: DB });
    await direct.connect();
    await direct.query("create sequence ran");
    const { dir, issuer, store, log, gateway } = await storeLoggedGateway("hoopgate-audit-overload-", budget);
    const locker = new pg.Client({ ...PG, database: `${DB}_store` });
    await locker.connect();
    const text = `select nextval('ran') /* ${"x".repeat(48 * 1024)} */`;
    try {
      await locker.query(`select pg_advisory_lock(${APPEND_LOCK})`);
      const raw = await RawSession.open({ host: "127.0.0.1", port: gateway.ports.postgres!, user: "bot", database: "orders", password: await issuer.issue({ sub: "bot-1", claims: { role: "bot" } }) });
      const frames = [serialize.parse({ text })];
      for (let i = 0; i < 1_000; i++) frames.push(serialize.bind({}), serialize.execute({}));
      frames.push(serialize.sync());
      void raw.sendAll(frames).catch(() => undefined);
      let fatal: Record<string, string> | undefined;
      for (;;) {
        const m = await raw.next().catch(() => undefined);
        if (m === undefined) break;
        if (m.type === "E") fatal = errorFields(m);
      }
      expect(fatal).toMatchObject({ S: "FATAL", C: "53000", M: expect.stringMatching(/the audit log is too far behind; its records are kept/) });
      expect(log.failed()).toBeUndefined();
      await locker.query(`select pg_advisory_unlock(${APPEND_LOCK})`);
    } finally {
      await locker.end();
      await gateway.close();
      await issuer.close();
    }
    try {
      expect(log.failed()).toBeUndefined();
      const ran = Number((await direct.query("select last_value from ran")).rows[0].last_value);
      expect(ran).toBeGreaterThan(1);
      expect(await store.query(`select count(*)::int as n from audit_log where type = 'statement'`)).toEqual([{ n: ran }]);
    } finally {
      await direct.end();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("is slowed to the writer's pace: every record is written and the log does not fail", async () => {
    await freshDatabase(DB);
    await freshDatabase(`${DB}_store`);
    const { dir, issuer, store, log, gateway } = await storeLoggedGateway("hoopgate-audit-flood-", BUDGET);
    const locker = new pg.Client({ ...PG, database: `${DB}_store` });
    await locker.connect();
    const text = `delete from orders where note = '${"x".repeat(64 * 1024)}'`;
    let raw: RawSession | undefined;
    try {
      await locker.query(`select pg_advisory_lock(${APPEND_LOCK})`);
      raw = await RawSession.open({ host: "127.0.0.1", port: gateway.ports.postgres!, user: "bot", database: "orders", password: await issuer.issue({ sub: "bot-1", claims: { role: "bot" } }) });
      const session = raw;
      let sent = false;
      const sending = session.sendAll(Array.from({ length: COUNT }, () => serialize.query(text))).then(() => void (sent = true));
      const codes: string[] = [];
      const reading = (async () => {
        while (codes.length < COUNT) {
          const m = await session.next();
          if (m.type === "E") codes.push(errorFields(m).C!);
        }
        await session.next(); // the last ReadyForQuery
      })();
      // a failed assertion below must not leave them rejecting unhandled
      sending.catch(() => undefined);
      reading.catch(() => undefined);

      // past the high-water mark (half the size budget) the session stops reading its client
      for (const deadline = Date.now() + 10_000; log.backlog().chars <= BUDGET.maxChars / 2; await sleep(10)) {
        if (Date.now() > deadline) throw new Error(`the backlog stayed at ${log.backlog().chars} characters`);
      }
      const stalled = log.backlog().records;
      await sleep(300);
      expect(log.backlog().records).toBe(stalled);
      expect(log.backlog().chars).toBeLessThan(BUDGET.maxChars / 2 + 5_000); // the record that crossed it, no more
      expect(codes.length).toBeLessThan(COUNT / 4);
      expect(sent).toBe(false); // the client waits on its socket
      expect(log.congestion()).toBeUndefined(); // other clients still get in
      expect(log.failed()).toBeUndefined();

      await locker.query(`select pg_advisory_unlock(${APPEND_LOCK})`);
      await sending;
      await reading;
      expect(codes).toEqual(Array.from({ length: COUNT }, () => "42501"));
    } finally {
      raw?.close();
      await locker.end();
      await gateway.close(); // the sessions' ends are recorded, then the log is closed with everything written
      await issuer.close();
    }
    try {
      expect(log.failed()).toBeUndefined();
      expect(await store.query(`select type, count(*)::int as n from audit_log group by type order by type`))
        .toEqual([{ type: "session_ended", n: 1 }, { type: "session_started", n: 1 }, { type: "statement", n: COUNT }]);
      expect(await verifyAuditLog(store)).toMatchObject({ ok: true, entries: COUNT + 2 });
      const [row] = await store.query<{ entry: string }>(`select entry from audit_log where type = 'statement' order by seq desc limit 1`);
      expect(JSON.parse(row!.entry).data).toMatchObject({
        text: text.slice(0, MAX_REFUSED_TEXT_BYTES), textBytes: text.length, textSha256: createHash("sha256").update(text).digest("hex"), decision: "deny",
      });
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

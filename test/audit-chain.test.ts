// The hash-chained audit log on the machine's PostgreSQL: appends from several writers stay one
// chain; `hoopgate audit verify` passes, then names the entry after an edit, a deletion or a
// reordering; sessions, replay and the OCSF export through the CLI. (The same chain on PGlite is
// verified and tampered with in approvals.test.ts; the embedded store's lock is checked here.)

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chainHash, inProcessWriter, startWriterThread, StoreAuditLog, verifyAuditLog } from "../runtime/audit/index.js";
import { createLogger } from "../runtime/log.js";
import { openStore, type Store } from "../runtime/store/index.js";
import { cli } from "./support/cli.js";
import { freshDatabase } from "./support/pg-gateway.js";

const logger = createLogger({ level: "silent" });
const identity = { issuer: "https://issuer.test", subject: "bot-1", claims: { iss: "https://issuer.test", sub: "bot-1" } };
const DB = "hoopgate_audit_chain";
const URL = `postgres://postgres@127.0.0.1:5432/${DB}`;
let store: Store;

beforeAll(async () => {
  await freshDatabase(DB);
  store = await openStore({ kind: "postgres", url: URL }, logger);
  // two writer threads, each with its own connection, as two gateway replicas would write
  const first = new StoreAuditLog(await startWriterThread(URL, store.location, logger));
  const second = new StoreAuditLog(await startWriterThread(URL, store.location, logger));
  const writes: Promise<void>[] = [];
  for (let s = 1; s <= 3; s++) {
    const log = s % 2 === 0 ? second : first;
    const session = `s${s}`;
    writes.push(log.sessionStarted({ session, identity, connection: "orders-db", protocol: "postgres", client: "127.0.0.1:5000" }));
    for (let i = 0; i < 4; i++) {
      writes.push(log.statement({
        session, identity: { issuer: identity.issuer, subject: identity.subject }, connection: "orders-db",
        text: `select ${i} as n`, decision: "allow", rules: ["work/allow#1"], rows: 1, bytes: 20, durationMs: 1,
        output: { columns: ["n"], rows: [[String(i)]], truncated: false },
      }));
    }
    writes.push(log.append({ type: "bundle_loaded", data: { sha256: "ab".repeat(32), origin: "bundle.json" } }));
    writes.push(log.sessionEnded({ session, rows: 4, bytes: 80, durationMs: 10 }));
  }
  await Promise.all(writes);
  await first.close();
  await second.close();
  await store.exec(`create table pristine_log as select * from audit_log; create table pristine_head as select * from audit_head; create table pristine_sessions as select * from sessions`);
});

afterEach(async () => {
  // every tamper test starts from the log as it was written
  await store.exec(`delete from audit_log; insert into audit_log select * from pristine_log; delete from audit_head; insert into audit_head select * from pristine_head;
    delete from sessions; insert into sessions select * from pristine_sessions`);
});

afterAll(async () => {
  await store?.close();
});

describe("audit chain", () => {
  it("verifies a log written by two writers as one linear chain", async () => {
    const result = await cli("audit", "verify", "--store", URL);
    expect(result).toMatchObject({ code: 0, out: expect.stringContaining("audit log intact: 21 entries") });
  });

  it("refuses a PGlite store another process holds, naming it", async () => {
    // the lock a running gateway holds (its pid is alive: this one's parent)
    const dir = mkdtempSync(join(tmpdir(), "hoopgate-audit-"));
    writeFileSync(join(dir, "store.lock"), `${process.ppid}\n`);
    const result = await cli("audit", "verify", "--store", dir);
    expect(result.code).toBe(2);
    expect(result.err).toContain(`embedded store ${dir} is in use by process ${process.ppid}`);
  });

  it("names an edited entry", async () => {
    await store.query(`update audit_log set entry = replace(entry, '"select 2 as n"', '"select 3 as n"') where seq = 4`);
    const result = await cli("audit", "verify", "--store", URL);
    expect(result.code).toBe(1);
    expect(result.err).toContain("broken at entry 4 (edited)");
  });

  it("names an entry rewritten with a recomputed hash by the link that breaks after it", async () => {
    const [row] = await store.query<{ entry: string; prev_hash: string }>(`select entry, prev_hash from audit_log where seq = 5`);
    const forged = row!.entry.replace('"select 3 as n"', '"select 9 as n"');
    await store.query(`update audit_log set entry = $1, hash = $2 where seq = 5`, [forged, chainHash(row!.prev_hash, forged)]);
    expect(await verifyAuditLog(store)).toMatchObject({ ok: false, seq: 5, problem: "edited" });
  });

  it("names a deleted entry, in the middle and at the end", async () => {
    await store.query(`delete from audit_log where seq = 7`);
    expect(await verifyAuditLog(store)).toMatchObject({ ok: false, seq: 7, problem: "deleted" });
    await store.query(`delete from audit_log where seq >= 7`);
    expect(await verifyAuditLog(store)).toMatchObject({ ok: false, seq: 7, problem: "deleted", message: expect.stringContaining("end of the log") });
  });

  it("names reordered entries", async () => {
    await store.query(`update audit_log set seq = -1 where seq = 9`);
    await store.query(`update audit_log set seq = 9 where seq = 10`);
    await store.query(`update audit_log set seq = 10 where seq = -1`);
    expect(await verifyAuditLog(store)).toMatchObject({ ok: false, seq: 9, problem: "reordered" });
  });

  describe("the sessions projection", () => {
    /** the entry that started a session */
    const startOf = async (session: string) =>
      Number((await store.query<{ seq: unknown }>(`select seq from audit_log where session_id = $1 and type = 'session_started'`, [session]))[0]!.seq);

    it("names a deleted session row by the entry that started the session", async () => {
      await store.query(`delete from sessions where id = 's2'`);
      const seq = await startOf("s2");
      expect(await verifyAuditLog(store)).toEqual({
        ok: false, entries: 21, seq, problem: "deleted", session: "s2", message: `session s2, started by entry ${seq}, has no row in sessions: deleted`,
      });
      const result = await cli("audit", "verify", "--store", URL);
      expect(result.code).toBe(1);
      expect(result.err).toContain(`broken at entry ${seq} (deleted session row): session s2`);
      expect(result.err).toContain("the chain's 21 entries verified");
    });

    it("names an edited row and the columns that differ: who ran it, how much, when", async () => {
      await store.query(`update sessions set subject = 'someone-else' where id = 's1'`);
      await store.query(`update sessions set statements = 1, rows_out = 0, ended_at = ended_at + interval '1 hour' where id = 's3'`);
      const seq = await startOf("s1");
      expect(await verifyAuditLog(store)).toMatchObject({
        ok: false, seq, problem: "edited", session: "s1",
        message: `the sessions row of session s1 (started by entry ${seq}) was edited: its subject does not match the chain (and 1 more session row that does not match the chain)`,
      });
      await store.query(`update sessions set subject = 'bot-1' where id = 's1'`);
      expect(await verifyAuditLog(store)).toMatchObject({
        problem: "edited", session: "s3", message: expect.stringContaining("its ended_at, statements, rows_out do not match the chain"),
      });
    });

    it("follows sessions across pages, open ones and records of sessions that never started, without false alarms; a row edited there is named", async () => {
      const memory = await openStore({ kind: "memory" }, logger);
      try {
        const log = new StoreAuditLog(inProcessWriter(memory));
        const who = { issuer: identity.issuer, subject: identity.subject };
        const statement = (session: string, i: number) =>
          log.statement({ session, identity: who, connection: "orders-db", text: `select ${i}`, decision: "allow", rules: [], rows: 1, bytes: 8, durationMs: 1 });
        const writes: Promise<void>[] = [];
        // a long session across the verifier's pages, short ones ending on every page, one never ending,
        // the admin API's records (no session_started), and a session ended twice with the second end pages later
        writes.push(log.sessionStarted({ session: "long", identity, connection: "orders-db", protocol: "postgres" }));
        writes.push(log.sessionStarted({ session: "twice", identity, connection: "orders-db", protocol: "postgres" }));
        writes.push(log.sessionEnded({ session: "twice", rows: 1, bytes: 1, durationMs: 1 }));
        for (let s = 0; s < 300; s++) {
          const id = `short-${s}`;
          writes.push(log.sessionStarted({ session: id, identity, connection: "orders-db", protocol: "postgres", client: "10.0.0.1:5000" }));
          for (let i = 0; i < 5; i++) writes.push(statement(id, i), statement("long", i));
          writes.push(log.statement({ session: `admin-${s}`, identity: { issuer: "hoopgate", subject: "bootstrap-admin-token" }, connection: "hoopgate.admin", text: "PUT /api/admin/connections/x", decision: "allow", rules: [] }));
          writes.push(log.sessionEnded({ session: id, rows: 5, bytes: 40, durationMs: 3, ...(s % 7 === 0 && { error: "upstream closed" }) }));
        }
        writes.push(log.sessionEnded({ session: "twice", rows: 9, bytes: 99, durationMs: 1, error: "ended again" }));
        writes.push(log.sessionStarted({ session: "still-open", identity, connection: "orders-db", protocol: "postgres" }));
        writes.push(statement("still-open", 1));
        writes.push(log.sessionEnded({ session: "long", rows: 1500, bytes: 12000, durationMs: 9 }));
        await Promise.all(writes);
        await log.close();
        const verified = await verifyAuditLog(memory);
        expect(verified).toMatchObject({ ok: true });
        expect(verified.entries).toBeGreaterThan(3 * 1000);
        // what the projection holds, and what verify rebuilt and found equal
        expect(await memory.query(`select id, statements, rows_out::int as rows_out, error from sessions where id in ('long', 'twice', 'still-open') order by id`)).toEqual([
          { id: "long", statements: 1500, rows_out: 1500, error: null },
          { id: "still-open", statements: 1, rows_out: 0, error: null },
          { id: "twice", statements: 0, rows_out: 9, error: "ended again" },
        ]);

        await memory.query(`update sessions set statements = 1499 where id = 'long'`);
        await memory.query(`update sessions set error = null where id = 'twice'`);
        await memory.query(`update sessions set client = '10.9.9.9:1' where id = 'short-250'`);
        const startOf = async (session: string) =>
          Number((await memory.query<{ seq: unknown }>(`select seq from audit_log where session_id = $1 and type = 'session_started'`, [session]))[0]!.seq);
        expect(await verifyAuditLog(memory)).toMatchObject({
          ok: false, seq: await startOf("long"), problem: "edited", session: "long",
          message: expect.stringMatching(/its statements does not match the chain \(and 2 more session rows that do not match the chain\)$/),
        });
      } finally {
        await memory.close();
      }
    }, 60_000);

    it("names a row no session of the chain explains", async () => {
      await store.query(`insert into sessions (id, protocol, issuer, subject, connection, started_at) values ('forged', 'postgres', 'https://issuer.test', 'bot-1', 'orders-db', now())`);
      expect(await verifyAuditLog(store)).toEqual({
        ok: false, entries: 21, seq: null, problem: "inserted", session: "forged", message: "sessions has a row for session forged, which no entry of the chain started: inserted",
      });
      expect((await cli("audit", "verify", "--store", URL)).err).toContain("audit log broken (inserted session row): sessions has a row for session forged");
    });
  });

  it("lists sessions, replays one, and exports OCSF-shaped JSON lines", async () => {
    const list = await cli("audit", "sessions", "list", "--store", URL, "--format", "json");
    expect(list.code).toBe(0);
    expect((JSON.parse(list.out) as { id: string; statements: number }[]).map((s) => [s.id, s.statements]).sort()).toEqual([["s1", 4], ["s2", 4], ["s3", 4]]);
    const replay = await cli("audit", "replay", "s2", "--store", URL);
    expect(replay.out).toContain("session s2 — bot-1 (https://issuer.test) on orders-db [postgres]");
    expect(replay.out).toMatch(/select 3 as n\n\s+n\n\s+-\n\s+3\n/);
    const exported = await cli("audit", "export", "--store", URL);
    const lines = exported.out.trimEnd().split("\n").map((l) => JSON.parse(l) as { class_uid: number; metadata: { sequence: number } });
    expect(lines).toHaveLength(21);
    expect(lines.map((l) => l.metadata.sequence)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(new Set(lines.map((l) => l.class_uid))).toEqual(new Set([3002, 6005, 6003]));
    expect((await cli("audit", "replay", "nope", "--store", URL)).code).toBe(1);
    expect((await cli("audit", "frobnicate", "--store", URL)).code).toBe(2);
  });
});

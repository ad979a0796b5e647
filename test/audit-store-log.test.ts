// The store's audit log as the gateway runs it: on PostgreSQL through the writer thread, on
// PGlite on the gateway's thread. Everything accepted before close() is written as one chain
// that verifies; a batch the store refuses fails its records, every later one and close() (fail
// closed); on PostgreSQL a dropped connection is replaced, and a gateway whose audit log failed
// refuses new sessions and ends the open ones.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inProcessWriter, startWriterThread, StoreAuditLog, verifyAuditLog, type StatementRecord } from "../runtime/audit/index.js";
import { canonicalJson } from "../runtime/bundle/canonical.js";
import { startGateway } from "../runtime/gateway/index.js";
import { startDevIssuer } from "../runtime/identity/index.js";
import { createLogger } from "../runtime/log.js";
import { openStore, type Store } from "../runtime/store/index.js";
import { selectOnlyGatewayConfig } from "./support/select-only-bundle.js";
import { freshDatabase, PG } from "./support/pg-gateway.js";

const logger = createLogger({ level: "silent" });
const DB = "hoopgate_audit_store_log";
const URL = `postgres://postgres@127.0.0.1:5432/${DB}`;
const identity = { issuer: "https://issuer.test", subject: "bot-1", claims: { iss: "https://issuer.test", sub: "bot-1", "é": ["😀"] } };

const statement = (session: string, i: number): StatementRecord => ({
  session, identity: { issuer: identity.issuer, subject: identity.subject }, connection: "orders-db",
  text: `select ${i} as "n", 'ü\\n' as t`, decision: "allow", rules: ["work/allow#1"], reason: undefined, rows: 1, bytes: 20, durationMs: 0.25,
  output: { columns: ["n", "t"], rows: [[String(i), "ü\\n"]], truncated: false },
});

const variants = [
  { kind: "PostgreSQL (writer thread)", open: async () => ({ store: await openStore({ kind: "postgres", url: URL }, logger), writer: (store: Store) => startWriterThread(URL, store.location, logger) }) },
  { kind: "PGlite (this thread)", open: async () => ({ store: await openStore({ kind: "memory" }, logger), writer: async (store: Store) => inProcessWriter(store) }) },
];

/** makes every later append fail in the store, as a full disk or a revoked grant would */
const REFUSE = `create function refuse_audit() returns trigger language plpgsql as $$ begin raise exception 'audit refused by the test'; end $$;
  create trigger refuse_audit before insert on audit_log for each statement execute function refuse_audit()`;

describe.each(variants)("store audit log on $kind", ({ open }) => {
  let store: Store;
  let writer: (store: Store) => ReturnType<typeof startWriterThread>;

  beforeAll(async () => {
    await freshDatabase(DB);
    ({ store, writer } = await open());
  });

  afterAll(async () => {
    await store?.close();
  });

  it("writes every record accepted before close() as one chain that verifies", async () => {
    const log = new StoreAuditLog(await writer(store));
    const accepted: Promise<void>[] = [];
    for (let s = 0; s < 3; s++) {
      accepted.push(log.sessionStarted({ session: `w${s}`, identity, connection: "orders-db", protocol: "postgres", client: "127.0.0.1:5000" }));
      for (let i = 0; i < 1500; i++) accepted.push(log.statement(statement(`w${s}`, i)));
      accepted.push(log.append({ type: "bundle_loaded", data: { sha256: "ab".repeat(32), origin: "bundle.json" } }));
      accepted.push(log.sessionEnded({ session: `w${s}`, rows: 1500, bytes: 30_000, durationMs: 12.5, error: "client went away" }));
    }
    await expect(log.append({ type: "statement", session: "w0", data: {} })).rejects.toThrow("statement is recorded through the sink's own method, not append()");
    await log.close(); // at once: what is still gathering is written before it resolves
    await Promise.all(accepted);
    await expect(log.statement(statement("late", 0))).rejects.toThrow("the audit log is closed");
    expect(await verifyAuditLog(store)).toMatchObject({ ok: true, entries: 3 * 1503 });
    const [entry] = await store.query<{ entry: string }>(`select entry from audit_log where session_id = 'w1' and type = 'statement' order by seq offset 7 limit 1`);
    const { session, ...data } = statement("w1", 7);
    expect(JSON.parse(entry!.entry)).toMatchObject({ type: "statement", session, data: JSON.parse(canonicalJson(data)) });
    expect(await store.query(`select id, statements, rows_out::int as rows, error from sessions order by id`)).toEqual(
      ["w0", "w1", "w2"].map((id) => ({ id, statements: 1500, rows: 1500, error: "client went away" })),
    );
  });

  it("stores every entry byte for byte, whatever its fields hold (COPY's escapes)", async () => {
    const log = new StoreAuditLog(await writer(store));
    const odd = "tab\there\nline\r\nback\\slash \\N \\.\n\\.\n\u0001 é 😀";
    const session = `odd\t\\session\n${odd.length}`;
    const records: [string, string | undefined, unknown][] = [
      ["session_started", session, { identity, connection: odd, protocol: "postgres", client: odd }],
      ["statement", session, { ...statement(session, 1), text: odd, reason: odd, output: { columns: [odd], rows: [[odd, null]], truncated: true } }],
      [`event\t${odd}`, session, { note: odd }],
      ["bundle_loaded", undefined, { origin: odd }],
      ["session_ended", session, { rows: 1, bytes: 2, durationMs: 3, error: odd }],
    ];
    await Promise.all([
      log.sessionStarted({ session, ...(records[0]![2] as Omit<Parameters<typeof log.sessionStarted>[0], "session">) }),
      log.statement(records[1]![2] as StatementRecord),
      log.append({ type: records[2]![0], session, data: records[2]![2] as Record<string, unknown> }),
      log.append({ type: records[3]![0], data: records[3]![2] as Record<string, unknown> }),
      log.sessionEnded({ session, ...(records[4]![2] as { rows: number; bytes: number; durationMs: number }) }),
    ]);
    await log.close();
    expect(await verifyAuditLog(store)).toMatchObject({ ok: true });
    const rows = await store.query<{ type: string; session_id: string | null; entry: string }>(
      `select type, session_id, entry from audit_log where seq > (select max(seq) - 5 from audit_log) order by seq`,
    );
    expect(rows.map((r) => [r.type, r.session_id])).toEqual(records.map(([type, s]) => [type, s ?? null]));
    for (const [i, row] of rows.entries()) {
      const { session: _omitted, ...data } = records[i]![2] as Record<string, unknown>;
      const entry = JSON.parse(row.entry) as { seq: number; time: string; data: unknown };
      expect(row.entry).toBe(canonicalJson({ ...entry, data: JSON.parse(canonicalJson(data)) }));
      expect(JSON.stringify(entry.data)).toBe(canonicalJson(data));
    }
    expect(await store.query(`select connection, client, error, statements from sessions where id = $1`, [session]))
      .toEqual([{ connection: odd, client: odd, error: odd, statements: 1 }]);
  });

  it("fails closed on a record that has no JSON form: its batch, and every later record, are refused", async () => {
    const log = new StoreAuditLog(await writer(store));
    const before = log.statement(statement("nan", 1));
    await expect(log.statement({ ...statement("nan", 2), rows: Number.NaN }))
      .rejects.toThrow(/^the audit log in store .+ cannot be written: \$\.data\.rows: NaN has no JSON form$/);
    await expect(log.statement(statement("nan", 3))).rejects.toThrow(/NaN has no JSON form/);
    await expect(before).rejects.toThrow(/NaN has no JSON form/);
    await expect(log.close()).rejects.toThrow(/NaN has no JSON form/);
    expect(await store.query(`select count(*)::int as n from audit_log where session_id = 'nan'`)).toEqual([{ n: 0 }]);
  });

  it("fails closed: a refused batch fails its records, every later record and close()", async () => {
    const log = new StoreAuditLog(await writer(store));
    await log.statement(statement("before", 1));
    await store.exec(REFUSE);
    try {
      const refused = log.statement(statement("refused", 1));
      await expect(refused).rejects.toThrow(/^the audit log in store .+ cannot be written: audit refused by the test$/);
      expect(log.failed()?.message).toMatch(/audit refused by the test/);
      await expect(log.statement(statement("after", 1))).rejects.toThrow(/audit refused by the test/);
      await expect(log.close()).rejects.toThrow(/audit refused by the test/);
    } finally {
      await store.exec(`drop trigger refuse_audit on audit_log; drop function refuse_audit()`);
    }
    expect(await verifyAuditLog(store)).toMatchObject({ ok: true });
  });
});

describe("the writer thread on PostgreSQL", () => {
  let store: Store;

  beforeAll(async () => {
    await freshDatabase(DB);
    store = await openStore({ kind: "postgres", url: URL }, logger);
  });

  afterAll(async () => {
    await store?.close();
  });

  it("replaces a connection the server dropped, and goes on with the chain", async () => {
    const log = new StoreAuditLog(await startWriterThread(URL, store.location, logger));
    await log.statement(statement("s", 1));
    const admin = new pg.Client({ ...PG, database: DB });
    await admin.connect();
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [DB]);
    await admin.end();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the pool sees its idle connection go
    await log.statement(statement("s", 2));
    await log.close();
    expect(await verifyAuditLog(store)).toMatchObject({ ok: true, entries: 2 });
  });

  it("refuses to start when the store is not reachable", async () => {
    await expect(startWriterThread("postgres://postgres@127.0.0.1:1/nowhere", "postgres://127.0.0.1:1/nowhere", logger))
      .rejects.toThrow(/^the audit log in store postgres:\/\/127\.0\.0\.1:1\/nowhere cannot be opened: store .* is not reachable/);
  });

  it("makes a gateway refuse new sessions and end the open ones once a batch fails", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hoopgate-audit-gw-"));
    const issuer = await startDevIssuer();
    const gateway = await startGateway(await selectOnlyGatewayConfig(dir, issuer, DB, { kind: "postgres", url: URL }), { logger });
    const connect = async (): Promise<pg.Client> => {
      const client = new pg.Client({ host: "127.0.0.1", port: gateway.ports.postgres, database: "orders", user: "bot", password: await issuer.issue({ sub: "bot-1", claims: { role: "bot" } }) });
      await client.connect();
      return client;
    };
    /** the first error the session reports (the gateway's FATAL when it ends it; the connection's end follows) */
    const endOf = (client: pg.Client): Promise<Error & { code?: string }> => new Promise((resolve) => client.on("error", resolve));
    try {
      const client = await connect();
      const idle = await connect();
      const ended = [endOf(client), endOf(idle)];
      expect((await client.query("select 1 as n")).rows).toEqual([{ n: 1 }]);
      await store.exec(REFUSE);
      // recorded, in a batch the store refuses (the batch with select 1's record may be refused first: then this fails too)
      await client.query("select 2 as n").catch(() => undefined);
      // the batch is written within the writer's interval: then both sessions end, the idle one too
      for (const error of await Promise.all(ended)) {
        expect(error).toMatchObject({ code: "58000", message: "session ended: the audit log cannot be written, so statements can no longer be recorded" });
      }
      await expect(connect()).rejects.toThrow('access to "orders" refused: the audit log cannot be written: connections are refused');
      await client.end();
      await idle.end();
    } finally {
      await gateway.close();
      await store.exec(`drop trigger if exists refuse_audit on audit_log; drop function if exists refuse_audit()`);
      await issuer.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

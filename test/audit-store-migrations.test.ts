// The audit log across the store's migrations, on PostgreSQL and PGlite: a log written before
// migration 3 (which rebuilds the session index on session_id alone) verifies and reads back by
// session after it, through the new index.

import { afterEach, describe, expect, it } from "vitest";
import { getSession, inProcessWriter, StoreAuditLog, verifyAuditLog } from "../runtime/audit/index.js";
import { createLogger } from "../runtime/log.js";
import { migrate, MIGRATIONS, type Store } from "../runtime/store/index.js";
import { openPgliteStore } from "../runtime/store/pglite-store.js";
import { openPgStore } from "../runtime/store/pg-store.js";
import { freshDatabase } from "./support/pg-gateway.js";

const logger = createLogger({ level: "silent" });
const DB = "hoopgate_audit_store_migrations";
const identity = { issuer: "https://issuer.test", subject: "bot-1", claims: {} };

const variants = [
  { kind: "PostgreSQL", open: async () => (await freshDatabase(DB), openPgStore(`postgres://postgres@127.0.0.1:5432/${DB}`, logger)) },
  { kind: "PGlite", open: () => openPgliteStore(undefined) },
];

describe.each(variants)("the audit log across migrations on $kind", ({ open }) => {
  let store: Store | undefined;

  afterEach(async () => {
    await store?.close();
  });

  it("reads a session written before migration 3 through the index it builds", async () => {
    store = await open();
    expect(await migrate(store, MIGRATIONS.filter((m) => m.version < 3))).toEqual([1, 2]);
    const log = new StoreAuditLog(inProcessWriter(store));
    for (const session of ["a", "b"]) {
      void log.sessionStarted({ session, identity, connection: "db", protocol: "postgres" });
    }
    for (let i = 0; i < 40; i++) {
      void log.statement({ session: i % 2 === 0 ? "a" : "b", identity, connection: "db", text: `select ${i}`, decision: "allow", rules: [] });
    }
    await log.close();

    expect(await migrate(store)).toEqual([3]);
    const indexes = await store.query<{ indexname: string }>(`select indexname from pg_indexes where tablename = 'audit_log' order by indexname`);
    expect(indexes.map((i) => i.indexname)).toEqual(["audit_log_pkey", "audit_log_session_id"]);
    expect(await verifyAuditLog(store)).toMatchObject({ ok: true, entries: 42 });
    const read = await getSession(store, "b");
    expect(read?.session.statements).toBe(20);
    expect(read?.entries.map((e) => e.data.text ?? e.type)).toEqual(["session_started", ...Array.from({ length: 20 }, (_, i) => `select ${2 * i + 1}`)]);
    expect(read?.entries.map((e) => e.seq)).toEqual([...read!.entries.map((e) => e.seq)].sort((x, y) => x - y));
  });
});

// Approvals end to end through the PostgreSQL proxy, with the store on the machine's real
// PostgreSQL and on PGlite: held statements, approval through the API, denial, expiry,
// single use, restarts, two replicas on one store, and the audit chain over the whole run.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditLog, getSession, replayTranscript } from "../runtime/audit/index.js";
import type { StoreConfig } from "../runtime/config/types.js";
import { sendCancel } from "../runtime/postgres/cancel.js";
import { decide, heldRequest, startApprovalGateway, startIdentities, type ApprovalGateway, type Identities } from "./support/approval-gateway.js";
import { cli } from "./support/cli.js";
import { freshDatabase, PG } from "./support/pg-gateway.js";

const TARGET_DB = "hoopgate_approvals_target";
const STORE_DB = "hoopgate_store_test";

const policy = (issuer: string): string => `
connection testdb { kind = postgres }
group writers {
  issuer = "${issuer}"
  when   = claims.role == "writer"
}
group dba {
  issuer = "${issuer}"
  when   = claims.role == "dba"
}
policy work {
  subjects    = [group.writers, group.dba]
  connections = [connection.testdb]
  review when sql.command == delete and not sql.has_where { id = "wipe", approvers = [group.dba] }
  review when sql.command == update and not sql.has_where { id = "mass-update", approvers = [group.dba], timeout = 2s }
  allow  when sql.command in [select, insert, update, delete, begin, commit, rollback]
}
`;

let ids: Identities;
let direct: pg.Client;

beforeAll(async () => {
  await freshDatabase(TARGET_DB);
  direct = new pg.Client({ ...PG, database: TARGET_DB });
  await direct.connect();
  ids = await startIdentities(policy);
});

afterAll(async () => {
  await direct?.end();
  await ids?.close();
});

const targets = { testdb: { ...PG, database: TARGET_DB } };

async function fill(table: string, rows: number): Promise<void> {
  await direct.query(`drop table if exists ${table}; create table ${table} (id int primary key, v text)`);
  await direct.query(`insert into ${table} select g, 'v' || g from generate_series(1, ${rows}) g`);
}

async function count(table: string): Promise<number> {
  return (await direct.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]!.n;
}

const stores: { kind: string; config: () => StoreConfig }[] = [
  { kind: "PostgreSQL", config: () => ({ kind: "postgres", url: `postgres://postgres@127.0.0.1:5432/${STORE_DB}` }) },
  { kind: "PGlite", config: () => ({ kind: "pglite", dir: mkdtempSync(join(tmpdir(), "hoopgate-store-")) }) },
];

describe.each(stores)("approvals with the $kind store", ({ kind, config }) => {
  let storeConfig: StoreConfig;
  let gw: ApprovalGateway;

  beforeAll(async () => {
    storeConfig = config();
    if (storeConfig.kind === "postgres") await freshDatabase(STORE_DB);
    gw = await startApprovalGateway(ids, storeConfig, targets);
  });

  afterAll(async () => {
    await gw?.close();
  });

  it("serves health, readiness, bundle status, and refuses readers without an approver token", async () => {
    const get = async (path: string, token?: string): Promise<{ status: number; body: Record<string, unknown> }> => {
      const response = await fetch(`${gw.api.url}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect(await get("/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    expect(await get("/readyz")).toEqual({ status: 200, body: { status: "ready", checks: { bundle: "ok", store: "ok" } } });
    expect((await get("/api/bundle")).body).toMatchObject({ origin: "test.hoop", sha256: ids.engine.bundle.sha256 });
    expect((await get("/api/approvals")).status).toBe(401);
    expect((await get("/api/sessions", "garbage")).status).toBe(401);
    expect(await get("/api/approvals", await ids.token("writer"))).toMatchObject({ status: 403, body: { message: "writer-1 is in no approver group" } });
    const dba = await ids.token("dba", "alice");
    expect((await get("/api/approvals/not-an-id", dba)).status).toBe(400);
    expect((await get("/api/approvals?state=bogus", dba)).status).toBe(400);
    expect((await get("/api/approvals?color=red", dba)).status).toBe(400);
    const extra = await fetch(`${gw.api.url}/api/approvals/apr_00000000000000000000000000000000/approve`, {
      method: "POST", headers: { authorization: `Bearer ${dba}`, "content-type": "application/json" }, body: JSON.stringify({ approve: "all" }),
    });
    expect(extra.status).toBe(400);
    expect((await get("/api/approvals/apr_00000000000000000000000000000000", dba)).status).toBe(404);
    expect((await decide(gw.api, "apr_00000000000000000000000000000000", "approve", dba)).status).toBe(404);
  });

  it("holds a DELETE without WHERE until an approver approves it through the API, then returns its result", async () => {
    await fill("t1", 5);
    const client = gw.client(await ids.token("writer"));
    await client.connect();
    try {
      const held = heldRequest(client);
      const running = client.query("DELETE FROM t1");
      const { id, message } = await held;
      expect(message).toContain(`${gw.api.url}/console#approval=${id}`);
      expect(await count("t1")).toBe(5);
      const listed = await fetch(`${gw.api.url}/api/approvals?state=pending`, { headers: { authorization: `Bearer ${await ids.token("dba", "alice")}` } });
      const body = (await listed.json()) as { approvals: { id: string; statement: string; rules: { id: string }[] }[] };
      expect(body.approvals.find((a) => a.id === id)).toMatchObject({ statement: "DELETE FROM t1", rules: [{ id: "wipe", approvers: ["dba"] }] });
      const metrics = await (await fetch(`${gw.api.url}/metrics`)).text();
      expect(metrics).toMatch(/hoopgate_pending_approvals [1-9]/);
      expect(metrics).toMatch(/hoopgate_decisions_total\{effect="review"\} [1-9]/);
      const approved = await decide(gw.api, id, "approve", await ids.token("dba", "alice"));
      expect(approved).toMatchObject({ status: 200, body: { state: "approved", decidedBy: { subject: "alice" } } });
      const result = await running;
      expect(result.rowCount).toBe(5);
      expect(await count("t1")).toBe(0);
      // single use: the same statement again asks anew
      const again = heldRequest(client);
      const rerun = client.query("DELETE FROM t1").catch((e: unknown) => e);
      const second = await again;
      expect(second.id).not.toBe(id);
      const dba = await ids.token("dba", "alice");
      const listed2 = await cli("approvals", "list", "--api", gw.api.url, "--token", dba);
      expect(listed2).toMatchObject({ code: 0, out: expect.stringContaining(`${second.id}  pending  testdb  writer-1`) });
      expect(await cli("approvals", "deny", second.id, "--api", gw.api.url, "--token", dba)).toMatchObject({ code: 0, out: `✓ ${second.id} denied\n` });
      expect(await rerun).toMatchObject({ code: "42501" });
    } finally {
      await client.end();
    }
  });

  it("refuses the requester's own approval (403) and an approver outside the groups, then a denial errors and the session goes on", async () => {
    await fill("t2", 3);
    const requesterToken = await ids.token("dba", "bob");
    const client = gw.client(requesterToken);
    await client.connect();
    try {
      const held = heldRequest(client);
      const running = client.query("DELETE FROM t2").catch((e: unknown) => e);
      const { id } = await held;
      const own = await decide(gw.api, id, "approve", requesterToken);
      expect(own.status).toBe(403);
      expect(String(own.body.message)).toContain("bob asked for this statement and cannot approve it");
      const outsider = await decide(gw.api, id, "approve", await ids.token("writer", "carol"));
      expect(outsider.status).toBe(403);
      expect(String(outsider.body.message)).toContain("wipe needs one of [dba]");
      expect((await decide(gw.api, id, "approve", "not-a-token")).status).toBe(401);
      const denied = await decide(gw.api, id, "deny", await ids.token("dba", "alice"), "not during business hours");
      expect(denied.status).toBe(200);
      const err = (await running) as Error & { code?: string };
      expect(err.code).toBe("42501");
      expect(err.message).toBe(`statement denied by approver alice (approval request ${id}): not during business hours`);
      expect(await count("t2")).toBe(3);
      expect((await client.query("select count(*)::int as n from t2")).rows[0]).toEqual({ n: 3 });
      expect((await decide(gw.api, id, "approve", await ids.token("dba", "alice"))).status).toBe(409);
    } finally {
      await client.end();
    }
  });

  it("a cancel ends the hold with 57014, leaves the request pending and the session usable", async () => {
    await fill("t9", 2);
    const client = gw.client(await ids.token("writer"));
    await client.connect();
    try {
      const held = heldRequest(client);
      const running = client.query("DELETE FROM t9").catch((e: unknown) => e as Error & { code?: string });
      const { id } = await held;
      const key = client as unknown as { processID: number; secretKey: number };
      await sendCancel({ host: "127.0.0.1", port: gw.proxy.port, pid: key.processID, secret: key.secretKey });
      const err = await running;
      expect(err).toMatchObject({ code: "57014" });
      expect(err.message).toContain(`request ${id} stays pending`);
      expect((await gw.approvals.get(id))?.state).toBe("pending");
      expect((await client.query("select count(*)::int as n from t9")).rows[0]).toEqual({ n: 2 });
      // a cancel with nothing held goes to the backend as usual
      const sleeping = client.query("select pg_sleep(20)").catch((e: unknown) => e as Error & { code?: string });
      await new Promise((r) => setTimeout(r, 300));
      await sendCancel({ host: "127.0.0.1", port: gw.proxy.port, pid: key.processID, secret: key.secretKey });
      expect(await sleeping).toMatchObject({ code: "57014" });
      expect((await client.query("select 1 as one")).rows[0]).toEqual({ one: 1 });
    } finally {
      await client.end();
    }
  });

  it("expires a request nobody decides: a clear error, and the session goes on (extended protocol)", async () => {
    await fill("t3", 2);
    const client = gw.client(await ids.token("writer"));
    await client.connect();
    try {
      const held = heldRequest(client);
      const started = Date.now();
      const err = await client.query({ text: "UPDATE t3 SET v = $1", values: ["x"] }).catch((e: unknown) => e as Error & { code?: string });
      const { id } = await held;
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      expect(err).toMatchObject({ code: "42501", message: `approval request ${id} expired before anyone approved it: statement not run` });
      expect((await client.query({ text: "select count(*)::int as n from t3 where v = $1", values: ["x"] })).rows[0]).toEqual({ n: 0 });
      const request = await gw.approvals.get(id);
      expect(request?.state).toBe("expired");
    } finally {
      await client.end();
    }
  });

  it("loses nothing across a restart: the client reconnects, re-runs, attaches to the pending request and goes through once approved", async () => {
    await fill("t4", 4);
    const token = await ids.token("writer", "deployer");
    const first = gw.client(token);
    await first.connect();
    first.on("error", () => undefined);
    const held = heldRequest(first);
    const lost = first.query("DELETE FROM t4").catch((e: unknown) => e);
    const { id } = await held;
    await gw.close();
    await lost;
    gw = await startApprovalGateway(ids, storeConfig, targets);
    expect((await gw.approvals.get(id))?.state).toBe("pending");
    const second = gw.client(token);
    await second.connect();
    try {
      const attached = heldRequest(second);
      const running = second.query("DELETE FROM t4");
      const again = await attached;
      expect(again.id).toBe(id);
      expect(again.message).toContain("already pending");
      expect(await count("t4")).toBe(4);
      expect((await decide(gw.api, id, "approve", await ids.token("dba", "alice"))).status).toBe(200);
      expect((await running).rowCount).toBe(4);
    } finally {
      await second.end();
    }
  });

  it("records everything in a hash chain that verifies, replays the session, and names an edited entry", async () => {
    await fill("t5", 2);
    const client = gw.client(await ids.token("writer", "replayer"));
    await client.connect();
    await client.query("insert into t5 values (3, 'secret-ish')");
    await client.query("select id, v from t5 order by id");
    await client.end();
    await new Promise((r) => setTimeout(r, 100)); // session_ended is appended after the socket closes
    const store = gw.store;
    const verified = await verifyAuditLog(store);
    expect(verified).toMatchObject({ ok: true });
    const [session] = await store.query<{ id: string }>(`select id from sessions where subject = 'replayer'`);
    const found = await getSession(store, session!.id);
    const transcript = replayTranscript(found!.session, found!.entries);
    expect(transcript).toContain("select id, v from t5 order by id");
    expect(transcript).toMatch(/3\s+\| secret-ish/);
    const byApi = await fetch(`${gw.api.url}/api/sessions/${session!.id}?format=text`, { headers: { authorization: `Bearer ${await ids.token("dba", "alice")}` } });
    expect(await byApi.text()).toBe(transcript);

    const [target] = await store.query<{ seq: unknown }>(`select seq from audit_log where type = 'statement' and session_id = $1 order by seq limit 1`, [session!.id]);
    const seq = Number(target!.seq);
    await store.query(`update audit_log set entry = replace(entry, 'insert into t5', 'insert into t6') where seq = $1`, [seq]);
    expect(await verifyAuditLog(store)).toMatchObject({ ok: false, seq, problem: "edited" });
    await store.query(`update audit_log set entry = replace(entry, 'insert into t6', 'insert into t5') where seq = $1`, [seq]);
    expect(await verifyAuditLog(store)).toMatchObject({ ok: true });
  });
});

describe("two gateway replicas sharing one PostgreSQL store", () => {
  it("an approval on one replica releases the statement the other holds (LISTEN/NOTIFY)", async () => {
    // the store the suite above wrote: the chain goes on across both replicas
    const config: StoreConfig = { kind: "postgres", url: `postgres://postgres@127.0.0.1:5432/${STORE_DB}` };
    const a = await startApprovalGateway(ids, config, targets);
    const b = await startApprovalGateway(ids, config, targets);
    try {
      await fill("t6", 6);
      const client = a.client(await ids.token("writer"));
      await client.connect();
      const held = heldRequest(client);
      const running = client.query("DELETE FROM t6");
      const { id } = await held;
      const listed = await fetch(`${b.api.url}/api/approvals/${id}`, { headers: { authorization: `Bearer ${await ids.token("dba", "alice")}` } });
      expect(((await listed.json()) as { state: string }).state).toBe("pending");
      expect((await decide(b.api, id, "approve", await ids.token("dba", "alice"))).status).toBe(200);
      expect((await running).rowCount).toBe(6);
      await client.end();
      await new Promise((r) => setTimeout(r, 100)); // session_ended is appended after the socket closes
      expect(await verifyAuditLog(a.store)).toMatchObject({ ok: true });
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe("a pipelining client (postgres.js, extended protocol)", () => {
  it("keeps the order: statements sent after the held one wait for it, then run", async () => {
    const gw = await startApprovalGateway(ids, { kind: "postgres", url: `postgres://postgres@127.0.0.1:5432/${STORE_DB}` }, targets);
    await fill("t8", 3);
    let noticed: (message: string) => void = () => undefined;
    const notice = new Promise<string>((resolve) => (noticed = resolve));
    const sql = postgres({
      host: "127.0.0.1", port: gw.proxy.port, database: "testdb", username: "ci", pass: await ids.token("writer"), max: 1,
      onnotice: (n) => noticed(String(n.message)),
    });
    try {
      const deleting = sql`DELETE FROM t8`.execute();
      const after = sql`select count(*)::int as n from t8`.execute();
      const id = /request (apr_[0-9a-f]{32})/.exec(await notice)?.[1];
      expect(id).toBeDefined();
      expect(await count("t8")).toBe(3);
      expect((await decide(gw.api, id!, "approve", await ids.token("dba", "alice"))).status).toBe(200);
      expect((await deleting).count).toBe(3);
      expect([...(await after)]).toEqual([{ n: 0 }]);
    } finally {
      await sql.end();
      await gw.close();
    }
  });
});

describe("a store outage", () => {
  it("refuses a review statement at once when its request cannot be recorded (fail closed)", async () => {
    const gw = await startApprovalGateway(ids, { kind: "postgres", url: `postgres://postgres@127.0.0.1:5432/${STORE_DB}` }, targets);
    try {
      await fill("t7", 2);
      const client = gw.client(await ids.token("writer"));
      await client.connect();
      await gw.store.close();
      const err = await client.query("DELETE FROM t7").catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "42501", message: expect.stringMatching(/^approval required, but the request could not be recorded \(.+\): statement not run$/) });
      expect(await count("t7")).toBe(2);
      expect((await client.query("select count(*)::int as n from t7")).rows).toEqual([{ n: 2 }]);
      await client.end();
    } finally {
      await gw.close();
    }
  });
});

// An approval is for one execution of the statement it names: a prepared statement released by
// one cannot be bound again (named or unnamed), and a statement that needs approval cannot be
// stored with SQL PREPARE for EXECUTE to run it again unasked. Through the gateway against the
// machine's real PostgreSQL; every refusal is checked on the server (the rows are still there).

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileSources } from "../compiler/index.js";
import { loadEngine } from "../runtime/engine/index.js";
import { decide, heldRequest, startApprovalGateway, startIdentities, type ApprovalGateway, type Identities } from "./support/approval-gateway.js";
import { freshDatabase, dropDatabase, PG } from "./support/pg-gateway.js";
import { errorFields, RawSession, serialize, type Message } from "./support/pg-raw-session.js";

const DB = "hoopgate_approvals_once";
const STORE_DB = "hoopgate_approvals_once_store";

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
  allow  when sql.command in [select, insert, delete, prepare, execute]
}
`;

let ids: Identities;
let gw: ApprovalGateway;
let direct: pg.Client;

beforeAll(async () => {
  await freshDatabase(DB);
  direct = new pg.Client({ ...PG, database: DB });
  await direct.connect();
  ids = await startIdentities(policy);
  gw = await startApprovalGateway(ids, { kind: "memory" }, { testdb: { ...PG, database: DB } });
});

afterAll(async () => {
  await gw?.close();
  await ids?.close();
  await direct?.end();
  await dropDatabase(DB);
});

async function fill(table: string): Promise<void> {
  await direct.query(`drop table if exists ${table}; create table ${table} (id int primary key); insert into ${table} select generate_series(1, 5)`);
}

async function count(table: string): Promise<number> {
  return (await direct.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]!.n;
}

/** the id of the pending request for `statement`, once the gateway has asked */
async function pendingFor(statement: string): Promise<string> {
  for (;;) {
    const found = (await gw.approvals.list({ state: "pending" })).find((a) => a.statement === statement);
    if (found !== undefined) return found.id;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function openRaw(): Promise<RawSession> {
  return ids.token("writer").then((password) => RawSession.open({ host: "127.0.0.1", port: gw.proxy.port, user: "ci", database: "testdb", password }));
}

/** a Parse of `text` as `name`, held until a dba approves it; the answers to it and its Sync */
async function parseApproved(raw: RawSession, name: string, text: string): Promise<Message[]> {
  const parsed = raw.run(serialize.parse({ name, text }), serialize.sync());
  expect((await decide(gw.api, await pendingFor(text), "approve", await ids.token("dba", "alice"))).status).toBe(200);
  return parsed;
}

function errorOf(messages: Message[]): Record<string, string> | undefined {
  const error = messages.find((m) => m.type === "E");
  return error === undefined ? undefined : errorFields(error);
}

async function approveNext(client: pg.Client): Promise<void> {
  const { id } = await heldRequest(client);
  expect((await decide(gw.api, id, "approve", await ids.token("dba", "alice"))).status).toBe(200);
}

describe("an approval runs its statement once", () => {
  it("a named prepared statement: the second execution is refused", async () => {
    await fill("once_named");
    const client = gw.client(await ids.token("writer"));
    await client.connect();
    try {
      const approved = approveNext(client);
      const first = await client.query({ name: "wipe_named", text: "DELETE FROM once_named" });
      await approved;
      expect(first.rowCount).toBe(5);
      await fill("once_named");
      // pg binds the statement it prepared: no new Parse, so no new approval request
      await expect(client.query({ name: "wipe_named", text: "DELETE FROM once_named" })).rejects.toMatchObject({
        code: "42501", message: expect.stringMatching(/approval request apr_[0-9a-f]+ was used by this statement's first execution/),
      });
      expect(await count("once_named")).toBe(5);
      expect((await client.query("select 1 as ok")).rows).toEqual([{ ok: 1 }]);
      // protocol and SQL prepared statements share one namespace: EXECUTE must not run it again either
      for (const sql of ["EXECUTE wipe_named", "EXPLAIN ANALYZE EXECUTE wipe_named"]) {
        await expect(client.query(sql)).rejects.toMatchObject({ code: expect.stringMatching(/^(42501|26000)$/) });
      }
      expect(await count("once_named")).toBe(5);
      // the gateway closed the statement on the server after its one execution
      const { rows } = await client.query("select count(*)::int as n from pg_prepared_statements where name = 'wipe_named'");
      expect(rows).toEqual([{ n: 0 }]);
    } finally {
      await client.end();
    }
  });

  it("the unnamed statement, bound again without a new Parse", async () => {
    await fill("once_unnamed");
    const raw = await openRaw();
    try {
      const running = raw.run(serialize.parse({ text: "DELETE FROM once_unnamed" }), serialize.bind({}), serialize.execute({}), serialize.sync());
      expect((await decide(gw.api, await pendingFor("DELETE FROM once_unnamed"), "approve", await ids.token("dba", "alice"))).status).toBe(200);
      expect((await running).find((m) => m.type === "C")?.body.toString()).toContain("DELETE 5");
      await fill("once_unnamed");
      const again = await raw.run(serialize.bind({}), serialize.execute({}), serialize.sync());
      expect(errorOf(again)).toMatchObject({ C: "42501", M: expect.stringMatching(/was used by this statement's first execution/) });
      expect(await count("once_unnamed")).toBe(5);
    } finally {
      raw.close();
    }
  });

  it("a failed Parse of the approved name does not free it: the approval still runs once", async () => {
    await fill("once_reparsed");
    const raw = await openRaw();
    try {
      expect((await parseApproved(raw, "w", "DELETE FROM once_reparsed")).some((m) => m.type === "1")).toBe(true);
      // the server keeps the approved statement: a Parse of the same name fails (42P05)
      const again = await raw.run(serialize.parse({ name: "w", text: "SELECT 1" }), serialize.bind({ statement: "w" }), serialize.execute({}), serialize.sync());
      expect(errorOf(again)).toMatchObject({ C: "42P05" });
      const first = await raw.run(serialize.bind({ statement: "w" }), serialize.execute({}), serialize.sync());
      expect(first.find((m) => m.type === "C")?.body.toString()).toContain("DELETE 5");
      await fill("once_reparsed");
      const second = await raw.run(serialize.bind({ statement: "w" }), serialize.execute({}), serialize.sync());
      expect(errorOf(second)).toMatchObject({ C: "42501", M: expect.stringMatching(/was used by this statement's first execution/) });
      expect(await count("once_reparsed")).toBe(5);
      // a Parse the server takes frees the name: a statement the policy allows runs under it
      const fresh = await raw.run(serialize.parse({ name: "w", text: "SELECT count(*) FROM once_reparsed" }), serialize.bind({ statement: "w" }), serialize.execute({}), serialize.sync());
      expect(errorOf(fresh)).toBeUndefined();
      const later = await raw.run(serialize.bind({ statement: "w" }), serialize.execute({}), serialize.sync());
      expect(later.find((m) => m.type === "C")?.body.toString()).toContain("SELECT 1");
    } finally {
      raw.close();
    }
  });

  it("SQL EXECUTE cannot run a statement an approval released for its Bind", async () => {
    await fill("once_executed");
    const raw = await openRaw();
    try {
      await parseApproved(raw, "w2", "DELETE FROM once_executed");
      for (const sql of ["EXECUTE w2", "EXPLAIN ANALYZE EXECUTE w2", "SELECT 1; EXECUTE w2"]) {
        expect(errorOf(await raw.run(serialize.query(sql)))).toMatchObject({ C: "42501", M: expect.stringMatching(/released by approval request apr_[0-9a-f]+ for one execution through the protocol/) });
      }
      expect(await count("once_executed")).toBe(5);
      const bound = await raw.run(serialize.bind({ statement: "w2" }), serialize.execute({}), serialize.sync());
      expect(bound.find((m) => m.type === "C")?.body.toString()).toContain("DELETE 5");
      await fill("once_executed");
      expect(errorOf(await raw.run(serialize.query("EXECUTE w2")))).toMatchObject({ C: expect.stringMatching(/^(42501|26000)$/) });
      expect(await count("once_executed")).toBe(5);
    } finally {
      raw.close();
    }
  });

  it("SQL PREPARE of a statement that needs approval is refused before anyone is asked", async () => {
    await fill("once_prepared");
    const client = gw.client(await ids.token("writer"));
    await client.connect();
    try {
      await expect(client.query("PREPARE wipe AS DELETE FROM once_prepared")).rejects.toMatchObject({
        code: "42501", message: expect.stringMatching(/cannot be prepared for later/),
      });
      await expect(client.query("EXECUTE wipe")).rejects.toMatchObject({ code: "26000" });
      expect(await count("once_prepared")).toBe(5);
      const pending = await gw.approvals.list({ state: "pending" });
      expect(pending.filter((a) => a.statement.includes("once_prepared"))).toEqual([]);
      // a statement that needs no approval still prepares
      await client.query("PREPARE one AS DELETE FROM once_prepared WHERE id = $1");
      await client.query("EXECUTE one(1)");
      expect(await count("once_prepared")).toBe(4);
    } finally {
      await client.end();
    }
  });
});

describe("a request is for the review rules it was asked under", () => {
  /** the same policy, but a DELETE without WHERE needs someone in security */
  const stricter = (issuer: string): string => policy(issuer)
    .replace('group dba {', `group security {\n  issuer = "${issuer}"\n  when   = claims.role == "security"\n}\ngroup dba {`)
    .replace("approvers = [group.dba]", "approvers = [group.security]");

  it("after the rules change, the same statement asks anew: an approval given under the old rules does not release it", async () => {
    await freshDatabase(STORE_DB);
    const compiled = compileSources([{ path: "test.hoop", text: stricter(ids.issuer.issuer) }]);
    if (compiled.bundle === undefined) throw new Error(compiled.diagnostics.map((d) => d.message).join("; "));
    const v2: Identities = { ...ids, engine: await loadEngine(compiled.bundle) };
    const store = { kind: "postgres" as const, url: `postgres://postgres@127.0.0.1:5432/${STORE_DB}` };
    const old = await startApprovalGateway(ids, store, { testdb: { ...PG, database: DB } });
    const current = await startApprovalGateway(v2, store, { testdb: { ...PG, database: DB } });
    try {
      await fill("once_rules");
      // asked under the old rules; the client leaves, a dba approves afterwards
      const first = old.client(await ids.token("writer", "bob"));
      await first.connect();
      const held = heldRequest(first);
      void first.query("DELETE FROM once_rules").catch(() => undefined);
      const { id } = await held;
      await first.end();
      expect((await decide(old.api, id, "approve", await ids.token("dba", "alice"))).status).toBe(200);
      // the same identity and statement under the rules in force: a new request, held
      const again = current.client(await ids.token("writer", "bob"));
      await again.connect();
      try {
        const second = heldRequest(again);
        const running = again.query("DELETE FROM once_rules").catch((e: unknown) => e);
        const { id: newId } = await second;
        expect(newId).not.toBe(id);
        expect(await count("once_rules")).toBe(5);
        expect((await current.approvals.get(id))?.state).toBe("expired");
        expect((await decide(current.api, newId, "deny", await ids.token("security", "sam"))).status).toBe(200);
        expect(await running).toMatchObject({ code: "42501" });
        expect(await count("once_rules")).toBe(5);
      } finally {
        await again.end();
      }
    } finally {
      await current.close();
      await old.close();
      await dropDatabase(STORE_DB);
    }
  });
});

describe("EXECUTE of a name whose latest Parse the gateway refused", () => {
  it("does not run the older statement the server kept under that name", async () => {
    await fill("once_refused");
    const raw = await openRaw();
    try {
      // allowed, then a Parse of the same name the policy refuses: the server keeps the first
      await raw.run(serialize.parse({ name: "d1", text: "DELETE FROM once_refused WHERE id = $1" }), serialize.sync());
      const refused = await raw.run(serialize.parse({ name: "d1", text: "DROP TABLE once_refused" }), serialize.sync());
      expect(refused.some((m) => m.type === "E")).toBe(true);
      const executed = await raw.run(serialize.query("EXECUTE d1(1)"));
      const error = executed.find((m) => m.type === "E");
      expect(error === undefined ? undefined : errorFields(error)).toMatchObject({ C: "42501", M: expect.stringMatching(/prepared statement "d1" is not what the gateway let run/) });
      expect(await count("once_refused")).toBe(5);
    } finally {
      raw.close();
    }
  });
});

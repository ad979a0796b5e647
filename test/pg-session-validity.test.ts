// A session lasts as long as its token and its access: it ends with FATAL 28000 when the token
// expires (its exp plus the issuer's clock skew, here 0), canceling a statement still running
// then, and when a new policy no longer lets its identity use the connection.

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { SessionPolicy } from "../runtime/engine/types.js";
import type { Identity } from "../runtime/facts/types.js";
import type { PgTarget } from "../runtime/postgres/context.js";
import type { ErrorFields } from "../runtime/postgres/messages.js";
import { watchSessionValidity } from "../runtime/postgres/session-validity.js";
import { dropDatabase, freshDatabase, PG, startGateway, type Gateway } from "./support/pg-gateway.js";

const DB = "hoopgate_session_validity";

const policy = (extraRole: string) => (issuer: string): string => `
connection vdb { kind = postgres }
group bots {
  issuer = "${issuer}"
  when   = claims.role == "bot" or claims.role == "${extraRole}"
}
policy bots {
  subjects    = [group.bots]
  connections = [connection.vdb]
  allow when sql.command in [select, insert]
}
`;

let gw: Gateway;
let direct: pg.Client;

beforeAll(async () => {
  await freshDatabase(DB);
  direct = new pg.Client({ ...PG, database: DB });
  await direct.connect();
  await direct.query("create table late (note text)");
  gw = await startGateway({ policy: policy("ops"), targets: { vdb: { ...PG, database: DB } }, clockSkewSeconds: 0 });
});

afterAll(async () => {
  await gw?.close();
  await direct?.end();
  await dropDatabase(DB).catch(() => undefined);
});

/** a client through the gateway and the first error it emits on its own (outside a query) */
async function connect(token: string): Promise<{ client: pg.Client; unsolicited: Promise<Error & { code?: string }> }> {
  const client = new pg.Client({ host: "127.0.0.1", port: gw.proxy.port, user: "ci", database: "vdb", password: token });
  const unsolicited = new Promise<Error & { code?: string }>((resolve) => client.on("error", resolve));
  await client.connect();
  return { client, unsolicited };
}

describe("token expiry", () => {
  it("ends an idle session with FATAL 28000 once the token expires", async () => {
    const { client, unsolicited } = await connect(await gw.token("bot", 2));
    expect((await client.query("select 1 as n")).rows).toEqual([{ n: 1 }]);
    const started = Date.now();
    const error = await unsolicited;
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(error).toMatchObject({ code: "28000", message: expect.stringMatching(/^session ended: the token expired at \d{4}-\d\d-\d\dT/) });
    await expect(client.query("select 1")).rejects.toThrow();
    await client.end().catch(() => undefined);
  });

  it("cancels a statement still running at the expiry: it neither completes nor commits", async () => {
    const { client } = await connect(await gw.token("bot", 2));
    client.on("error", () => undefined);
    const started = Date.now();
    const running = client.query("insert into late select 'after expiry' from pg_sleep(5)").then(() => "completed", (e: Error & { code?: string }) => e);
    expect(await running).toMatchObject({ code: "28000", message: expect.stringContaining("the token expired") });
    expect(Date.now() - started).toBeLessThan(4_500);
    // the backend was canceled, not left to finish and commit on its own
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect((await direct.query("select count(*)::int as n from late")).rows).toEqual([{ n: 0 }]);
    await client.end().catch(() => undefined);
  }, 15_000);

  it("leaves a session with a live token alone", async () => {
    const { client } = await connect(await gw.token("bot", "10m"));
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await client.query("select 2 as n")).rows).toEqual([{ n: 2 }]);
    await client.end();
  });
});

describe("policy changes", () => {
  it("end the sessions the new policy refuses and leave the others", async () => {
    const ops = await connect(await gw.token("ops"));
    const bot = await connect(await gw.token("bot"));
    await gw.replacePolicy(policy("nobody"));
    expect(await ops.unsolicited).toMatchObject({ code: "28000", message: 'session ended: the policy in force no longer lets this identity use "vdb"' });
    expect((await bot.client.query("select 3 as n")).rows).toEqual([{ n: 3 }]);
    await bot.client.end();
    await ops.client.end().catch(() => undefined);
    await gw.replacePolicy(policy("ops"));
  });
});

const T: PgTarget = { host: "10.0.0.1", port: 5432, user: "app", database: "app", tls: { mode: "verify-full", setting: "connections.c.tls" } };

describe("watchSessionValidity", () => {
  it("waits past setTimeout's 24.8-day limit without firing early", () => {
    vi.useFakeTimers();
    try {
      const day = 86_400_000;
      const identity: Identity = { issuer: "i", subject: "s", claims: {}, expiresAt: new Date(Date.now() + 40 * day) };
      const ended: ErrorFields[] = [];
      const watch = watchSessionValidity({ openSession: () => ({ ok: false, reason: "x" }) }, { identity, connection: "c", target: T }, (f) => ended.push(f));
      vi.advanceTimersByTime(30 * day);
      expect(ended).toEqual([]);
      vi.advanceTimersByTime(10 * day);
      expect(ended).toMatchObject([{ severity: "FATAL", code: "28000" }]);
      watch.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it("does nothing after stop, and has no deadline without expiresAt", () => {
    vi.useFakeTimers();
    try {
      const ended: ErrorFields[] = [];
      const soon: Identity = { issuer: "i", subject: "s", claims: {}, expiresAt: new Date(Date.now() + 1000) };
      watchSessionValidity({ openSession: () => ({ ok: false, reason: "x" }) }, { identity: soon, connection: "c", target: T }, (f) => ended.push(f)).stop();
      watchSessionValidity({ openSession: () => ({ ok: false, reason: "x" }) }, { identity: { issuer: "i", subject: "s", claims: {} }, connection: "c", target: T }, (f) => ended.push(f));
      vi.advanceTimersByTime(10_000_000);
      expect(ended).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("watchSessionValidity on policy changes", () => {
  const identity: Identity = { issuer: "i", subject: "s", claims: {} };
  const noChanges = (): (() => void) => () => undefined;

  it("asks the policy once when it starts: a bundle that landed between the login and the session's start is not missed", () => {
    const ended: ErrorFields[] = [];
    watchSessionValidity({ openSession: () => ({ ok: false, reason: "x" }), policyChanges: noChanges }, { identity, connection: "c", target: T }, (f) => ended.push(f));
    expect(ended).toMatchObject([{ severity: "FATAL", code: "28000", message: expect.stringMatching(/no longer lets this identity use "c"/) }]);
  });

  it("keeps the session when the policy still lets it in, or when every connection is refused for the gateway's own state", () => {
    const ended: ErrorFields[] = [];
    const allowed = watchSessionValidity({ openSession: () => ({ ok: true, session: {} as SessionPolicy }), policyChanges: noChanges }, { identity, connection: "c", target: T }, (f) => ended.push(f));
    const gatewayWide = watchSessionValidity({ openSession: () => ({ ok: false, reason: "audit", gatewayWide: true }), policyChanges: noChanges }, { identity, connection: "c", target: T }, (f) => ended.push(f));
    expect(ended).toEqual([]);
    allowed.stop();
    gatewayWide.stop();
  });
});

describe("watchSessionValidity on connection and issuer changes", () => {
  const identity: Identity = { issuer: "i", subject: "s", claims: {} };
  /** a context whose connections and trust the test changes, announcing each change as the admin state does */
  function admin(initial: Record<string, PgTarget>) {
    const targets = new Map(Object.entries(initial));
    let distrust: string | undefined;
    const listeners = new Set<() => void>();
    const ctx = {
      openSession: () => ({ ok: true }) as never,
      target: (name: string) => targets.get(name),
      distrust: () => distrust,
      accessChanges: (listener: () => void) => {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
    };
    const change = (edit: () => void): void => {
      edit();
      for (const listener of listeners) listener();
    };
    return {
      ctx, listeners,
      set: (name: string, target: PgTarget | undefined) => change(() => (target === undefined ? targets.delete(name) : targets.set(name, target))),
      distrust: (why: string | undefined) => change(() => (distrust = why)),
    };
  }

  it("ends the session when its connection is removed", () => {
    const a = admin({ c: T });
    const ended: ErrorFields[] = [];
    watchSessionValidity(a.ctx, { identity, connection: "c", target: T }, (f) => ended.push(f));
    a.set("other", undefined);
    expect(ended).toEqual([]);
    a.set("c", undefined);
    expect(ended).toEqual([{ severity: "FATAL", code: "28000", message: 'session ended: the connection "c" was removed' }]);
    expect(a.listeners.size).toBe(0);
  });

  it.each([
    ["host", { host: "10.0.0.2" }],
    ["port", { port: 5433 }],
    ["database", { database: "other" }],
    ["user", { user: "admin" }],
    ["TLS mode", { tls: { mode: "require", setting: "x" } }],
    ["CA", { tls: { mode: "verify-full", ca: "-----BEGIN CERTIFICATE-----", setting: "x" } }],
  ] as [string, Partial<PgTarget>][])("ends the session when its connection's %s changes", (_what, change) => {
    const a = admin({ c: T });
    const ended: ErrorFields[] = [];
    watchSessionValidity(a.ctx, { identity, connection: "c", target: T }, (f) => ended.push(f));
    a.set("c", { ...T, ...change });
    expect(ended).toEqual([{ severity: "FATAL", code: "28000", message: 'session ended: the connection "c" now leads to another target' }]);
  });

  it("keeps the session when only the credentials change, or the same target is put again", () => {
    const a = admin({ c: T });
    const ended: ErrorFields[] = [];
    const watch = watchSessionValidity(a.ctx, { identity, connection: "c", target: T }, (f) => ended.push(f));
    a.set("c", { ...T, tls: { ...T.tls!, setting: "connections.c.tls (admin)" } });
    a.set("c", { ...T, password: "rotated", requireAuth: ["scram-sha-256"] });
    expect(ended).toEqual([]);
    watch.stop();
    expect(a.listeners.size).toBe(0);
  });

  it("ends the session when its token is no longer trusted", () => {
    const a = admin({ c: T });
    const ended: ErrorFields[] = [];
    watchSessionValidity(a.ctx, { identity, connection: "c", target: T }, (f) => ended.push(f));
    a.distrust("issuer i is no longer trusted");
    expect(ended).toEqual([{ severity: "FATAL", code: "28000", message: "session ended: the token is no longer accepted: issuer i is no longer trusted" }]);
  });

  it("checks once when it starts: a change between the login and the session's start is not missed", () => {
    const a = admin({ c: { ...T, database: "elsewhere" } });
    const ended: ErrorFields[] = [];
    watchSessionValidity(a.ctx, { identity, connection: "c", target: T }, (f) => ended.push(f));
    expect(ended).toMatchObject([{ code: "28000", message: 'session ended: the connection "c" now leads to another target' }]);
    expect(a.listeners.size).toBe(0);
  });
});

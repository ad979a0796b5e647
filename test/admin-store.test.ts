// Admin objects kept in the gateway's store: on the real PostgreSQL two gateway replicas share
// them, and a change made through one is applied live by the other (LISTEN/NOTIFY); on the
// embedded PGlite store they survive reopening the state.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminState, storeAdminPersistence } from "../runtime/api/admin/index.js";
import { createLiveSettings } from "../runtime/api/admin/live.js";
import type { Identity } from "../runtime/facts/types.js";
import { startDevIssuer } from "../runtime/identity/index.js";
import type { ErrorFields } from "../runtime/postgres/messages.js";
import { watchSessionValidity } from "../runtime/postgres/session-validity.js";
import { createLogger } from "../runtime/log.js";
import { openStore, type Store } from "../runtime/store/index.js";
import { freshDatabase } from "./support/pg-gateway.js";

const DATABASE = "hoopgate_admin_store";
const config = { connections: {}, issuers: [] };
const logger = createLogger({ level: "silent" });

function changed(state: AdminState): Promise<void> {
  return new Promise((resolve) => {
    const off = state.onChange(() => {
      off();
      resolve();
    });
  });
}

describe("admin objects in the PostgreSQL store", () => {
  let one: Store;
  let two: Store;

  beforeAll(async () => {
    await freshDatabase(DATABASE);
    one = await openStore({ kind: "postgres", url: `postgres://postgres@127.0.0.1:5432/${DATABASE}` }, logger);
    two = await openStore({ kind: "postgres", url: `postgres://postgres@127.0.0.1:5432/${DATABASE}` }, logger);
  });

  afterAll(async () => {
    await one?.close();
    await two?.close();
  });

  it("applies a change made on one replica on the other", async () => {
    const a = await AdminState.open(config, storeAdminPersistence(one));
    const b = await AdminState.open(config, storeAdminPersistence(two));
    const seen = changed(b);
    await a.putConnection("shared", { target: "postgres://app@127.0.0.1:5432/app", password: "pw" });
    await seen;
    expect(b.connections().shared).toMatchObject({ name: "shared", password: "pw", target: { kind: "postgres", database: "app" } });
    const gone = changed(b);
    await a.deleteConnection("shared");
    await gone;
    expect(b.connection("shared")).toBeUndefined();
    await a.close();
    await b.close();
  });

  it("ends a session open on the other replica when one replica removes its connection or its issuer", async () => {
    const a = await AdminState.open(config, storeAdminPersistence(one));
    const b = await AdminState.open(config, storeAdminPersistence(two));
    const live = createLiveSettings(b);
    const issuer = await startDevIssuer();
    const until = async (what: () => boolean) => {
      for (const deadline = Date.now() + 5_000; !what(); await new Promise((resolve) => setTimeout(resolve, 20))) {
        if (Date.now() > deadline) throw new Error("the other replica did not apply the change");
      }
    };
    try {
      await a.putIssuer(issuer.issuer, { audience: [issuer.audience], jwks_url: issuer.jwksUrl });
      await a.putConnection("db", { target: "postgres://app@127.0.0.1:5432/app" });
      await until(() => live.target("db") !== undefined);
      const identity = await live.verifier().verify(await issuer.issue({ sub: "bot", claims: {} }));
      const ctx = {
        openSession: () => ({ ok: true }) as never, target: live.target, distrust: (i: Identity) => live.verifier().distrust(i), accessChanges: live.onChange,
      };
      const watch = (ended: ErrorFields[]) => watchSessionValidity(ctx, { identity, connection: "db", target: live.target("db")! }, (f) => ended.push(f));

      const first: ErrorFields[] = [];
      watch(first);
      await a.deleteConnection("db");
      await until(() => first.length > 0);
      expect(first).toEqual([{ severity: "FATAL", code: "28000", message: 'session ended: the connection "db" was removed' }]);

      await a.putConnection("db", { target: "postgres://app@127.0.0.1:5432/app" });
      await until(() => live.target("db") !== undefined);
      const second: ErrorFields[] = [];
      watch(second);
      await a.deleteIssuer(issuer.issuer);
      await until(() => second.length > 0);
      expect(second).toEqual([{ severity: "FATAL", code: "28000", message: `session ended: the token is no longer accepted: issuer ${issuer.issuer} is no longer trusted` }]);
      await a.deleteConnection("db");
    } finally {
      live.close();
      await issuer.close();
      await a.close();
      await b.close();
    }
  });
});

describe("admin objects in the embedded store", () => {
  it("persist across reopening", async () => {
    const store = await openStore({ kind: "memory" }, logger);
    try {
      const first = await AdminState.open(config, storeAdminPersistence(store));
      await first.putIssuer("https://issuer.example", { audience: ["hoopgate"], jwks_url: "https://issuer.example/jwks" });
      const hook = await first.putWebhook(undefined, { url: "https://hooks.example/x" });
      await first.close();
      const second = await AdminState.open(config, storeAdminPersistence(store));
      expect(second.issuer("https://issuer.example")).toMatchObject({ audience: ["hoopgate"], source: "admin" });
      expect(second.webhooks()).toEqual([hook]);
      await second.close();
    } finally {
      await store.close();
    }
  });
});

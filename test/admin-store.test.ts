// Admin objects kept in the gateway's store: on the real PostgreSQL two gateway replicas share
// them, and a change made through one is applied live by the other (LISTEN/NOTIFY); on the
// embedded PGlite store they survive reopening the state.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminState, storeAdminPersistence } from "../runtime/api/admin/index.js";
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

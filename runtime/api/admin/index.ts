// The admin API and the live state behind it, as the gateway wires them. With the control
// plane (runtime/api/control-plane.ts) the admin objects live in its store and its audit log:
//
//   let admin: AdminControl;
//   const plane = await openControlPlane({ …, verifyToken: (t) => admin.live.verifier().verify(t),
//                                          webhookUrls: () => admin.state.webhooks().map((w) => w.url) });
//   admin = await openAdminControl(config, { stateDir, bundle, sink: plane.audit, persistence: storeAdminPersistence(plane.store) });
//   await plane.startApi(config.listen.api, { bundleStatus: () => bundle?.status(), extraPlugins: [adminApiPlugin(admin)] });

import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { AuditSink } from "../../audit/index.js";
import type { BundleSource } from "../../bundle/source.js";
import type { GatewayConfig } from "../../config/types.js";
import { createAdminAudit } from "./audit.js";
import { createAdminAuthenticator } from "./auth.js";
import { createBundleDeployer } from "./bundle-deploy.js";
import { createLiveSettings, type LiveSettings } from "./live.js";
import { jsonFileAdminPersistence, type AdminPersistence } from "./persistence.js";
import { adminApi, type AdminApiOptions } from "./plugin.js";
import { AdminState } from "./state.js";

export { adminApi, type AdminApiOptions };
export { AdminState, AdminError } from "./state.js";
export type { LiveSettings } from "./live.js";
export { jsonFileAdminPersistence, type AdminPersistence } from "./persistence.js";
export { storeAdminPersistence } from "./store-persistence.js";

export interface AdminControl {
  state: AdminState;
  live: LiveSettings;
  /** options for the admin API plugin */
  api: AdminApiOptions;
  close(): Promise<void>;
}

/** For startApi's `extraPlugins`: the admin API under `/api/admin` on the gateway's API server. */
export function adminApiPlugin(control: AdminControl): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    await app.register(adminApi, { ...control.api, prefix: "/api/admin" });
  };
}

/**
 * Loads the persisted admin changes over the config: from the store when the gateway has one
 * (storeAdminPersistence: shared and followed across replicas), else `<state dir>/admin.json`.
 */
export async function openAdminControl(
  config: GatewayConfig,
  deps: { stateDir: string; bundle: BundleSource | undefined; sink: Pick<AuditSink, "statement">; persistence?: AdminPersistence },
): Promise<AdminControl> {
  const state = await AdminState.open(config, deps.persistence ?? jsonFileAdminPersistence(join(deps.stateDir, "admin.json")));
  const live = createLiveSettings(state);
  return {
    state,
    live,
    close: async () => {
      live.close();
      await state.close();
    },
    api: {
      state,
      bundle: createBundleDeployer(config.bundle, deps.bundle),
      audit: createAdminAudit(deps.sink),
      authenticate: createAdminAuthenticator(config.admin, () => live.verifier()),
    },
  };
}

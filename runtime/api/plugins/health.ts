// GET /healthz (the process answers) and GET /readyz (a bundle is in force and the store answers).

import type { FastifyInstance } from "fastify";
import type { Store } from "../../store/types.js";

export interface HealthOptions {
  store: Store;
  bundleLoaded(): boolean;
}

export async function healthApi(app: FastifyInstance, options: HealthOptions): Promise<void> {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    const checks: Record<string, string> = {};
    checks.bundle = options.bundleLoaded() ? "ok" : "no bundle loaded";
    try {
      await options.store.query("select 1");
      checks.store = "ok";
    } catch (err) {
      checks.store = `unreachable: ${(err as Error).message}`;
    }
    const ready = Object.values(checks).every((c) => c === "ok");
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not ready", checks });
  });
}

// GET /api/bundle: the bundle in force (sha256, origin, load time, signed issue time, last
// error). Not secret: the origin never carries a URL's query string or userinfo (bundle/origin.ts).

import type { FastifyInstance } from "fastify";
import type { BundleStatus } from "../../bundle/source.js";

export async function bundleApi(app: FastifyInstance, options: { status(): BundleStatus | undefined }): Promise<void> {
  app.get("/api/bundle", async (_request, reply) => {
    const status = options.status();
    if (status === undefined) return reply.code(404).send({ error: "not_found", message: "no bundle source is configured" });
    return {
      origin: status.origin,
      sha256: status.sha256 ?? null,
      loadedAt: status.loadedAt?.toISOString() ?? null,
      issuedAt: status.issuedAt?.toISOString() ?? null,
      lastError: status.lastError ?? null,
      lastErrorAt: status.lastErrorAt?.toISOString() ?? null,
    };
  });
}

// GET /metrics in the Prometheus text format.

import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";

export async function metricsApi(app: FastifyInstance, options: { registry: Registry }): Promise<void> {
  app.get("/metrics", async (_request, reply) => {
    const body = await options.registry.metrics();
    return reply.type(options.registry.contentType).send(body);
  });
}

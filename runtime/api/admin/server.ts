// A standalone fastify server for the admin API, used by the gateway until it starts the
// general API server (runtime/api/server.ts); there the same plugin mounts through
// `extraPlugins: [adminApiPlugin(gateway.admin)]`.

import Fastify from "fastify";
import type { HostPort } from "../../config/types.js";
import type { Logger } from "../../log.js";
import { adminApi, type AdminApiOptions } from "./plugin.js";

export interface AdminServer {
  port: number;
  close(): Promise<void>;
}

export async function startAdminServer(listen: HostPort, options: AdminApiOptions, logger: Logger): Promise<AdminServer> {
  const app = Fastify({ loggerInstance: logger });
  await app.register(adminApi, { ...options, prefix: "/api/admin" });
  await app.listen({ host: listen.host, port: listen.port });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : listen.port;
  return { port, close: () => app.close() };
}

// A standalone fastify server for the admin API, used by the gateway while it has no general
// API server: the same plugin mounts there under `/api/admin` (app.register(adminApi, …)).

import Fastify from "fastify";
import type { HostPort } from "../../config/types.js";
import type { Logger } from "../../log.js";
import { adminApi, type AdminApiOptions } from "./plugin.js";

export interface AdminServer {
  port: number;
  close(): Promise<void>;
}

export async function startAdminServer(listen: HostPort, options: AdminApiOptions, logger: Logger): Promise<AdminServer> {
  const app = Fastify({ loggerInstance: logger, bodyLimit: 64 * 1024 * 1024 });
  await app.register(adminApi, { ...options, prefix: "/api/admin" });
  await app.listen({ host: listen.host, port: listen.port });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : listen.port;
  return { port, close: () => app.close() };
}

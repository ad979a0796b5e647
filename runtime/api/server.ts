// The gateway's HTTP API: one fastify instance, one plugin per concern. The admin API (a
// separate plugin) registers on the same instance through `extraPlugins`.

import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { ApprovalService } from "../approvals/index.js";
import type { BundleStatus } from "../bundle/source.js";
import type { HostPort } from "../config/types.js";
import type { Engine } from "../engine/index.js";
import type { Identity } from "../facts/types.js";
import type { Logger } from "../log.js";
import type { Store } from "../store/types.js";
import type { GatewayMetrics } from "./metrics.js";
import { approvalsApi } from "./plugins/approvals.js";
import { bundleApi } from "./plugins/bundle.js";
import { consoleApi } from "./plugins/console.js";
import { healthApi } from "./plugins/health.js";
import { metricsApi } from "./plugins/metrics.js";
import { sessionsApi } from "./plugins/sessions.js";

export interface ApiDeps {
  logger: Logger;
  store: Store;
  approvals: ApprovalService;
  metrics: GatewayMetrics;
  verifyToken(token: string): Promise<Identity>;
  /** the engine in force (approver groups for readers); undefined when no bundle is loaded */
  engine(): Engine | undefined;
  bundleStatus(): BundleStatus | undefined;
  /** more plugins on the same server, e.g. the admin API */
  extraPlugins?: ((app: FastifyInstance) => Promise<void>)[];
}

/** The certificate and key the API presents; with them it is served over HTTPS only. */
export interface ApiTls {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface ApiServer {
  port: number;
  /** `https://host:port` with TLS, else `http://host:port` */
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startApi(deps: ApiDeps, listen: HostPort, tls?: ApiTls): Promise<ApiServer> {
  const options = {
    // pino's Logger is fastify's base logger; the generic parameter only narrows it
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    // unknown fields are refused (400), not silently dropped
    ajv: { customOptions: { removeAdditional: false } },
  };
  // Bearer tokens (approvers', admins', the Terraform provider's) cross this listener: with a
  // certificate it speaks HTTPS only. The plugins see the same instance either way.
  const app = (tls === undefined
    ? Fastify(options)
    : Fastify({ ...options, https: { cert: tls.cert, key: tls.key, minVersion: "TLSv1.2" } })) as unknown as FastifyInstance;
  const auth = { verifyToken: deps.verifyToken, engine: deps.engine };
  await app.register(healthApi, { store: deps.store, bundleLoaded: () => deps.engine() !== undefined });
  await app.register(metricsApi, { registry: deps.metrics.registry });
  await app.register(approvalsApi, { approvals: deps.approvals, auth });
  await app.register(sessionsApi, { store: deps.store, auth });
  await app.register(bundleApi, { status: deps.bundleStatus });
  await app.register(consoleApi);
  for (const plugin of deps.extraPlugins ?? []) await plugin(app);
  await app.listen({ host: listen.host, port: listen.port });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : listen.port;
  const host = listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  return { port, url: `${tls === undefined ? "http" : "https"}://${host}:${port}`, app, close: () => app.close() };
}

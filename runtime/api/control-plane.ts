// Everything behind approvals and the audit log, opened together for `startGateway`: the store
// (migrated), the hash-chained audit log (the AuditSink), the approvals service (the proxy's
// ProxyApprovals), the webhook, the metrics — and startApi to serve them.
//
//   const plane = await openControlPlane({ store: config.store, logger, verifyToken, engine });
//   ProxyContext: { audit: createAuditPort(plane.audit, logger), approvals: plane.approvals, metrics: plane.metrics.proxy }
//   const api = await plane.startApi(config.listen.api, { bundleStatus, extraPlugins: [admin] });

import type { FastifyInstance } from "fastify";
import { ApprovalService, WebhookNotifier } from "../approvals/index.js";
import { inProcessWriter, startWriterThread, StoreAuditLog } from "../audit/index.js";
import type { BundleSource, BundleStatus } from "../bundle/source.js";
import type { HostPort, StoreConfig } from "../config/types.js";
import type { Engine } from "../engine/index.js";
import type { Identity } from "../facts/types.js";
import type { Logger } from "../log.js";
import { openStore, type Store } from "../store/index.js";
import { createGatewayMetrics, type GatewayMetrics } from "./metrics.js";
import { startApi, type ApiServer, type ApiTls } from "./server.js";

export interface ControlPlaneOptions {
  store: StoreConfig | { kind: "memory" };
  logger: Logger;
  verifyToken(token: string): Promise<Identity>;
  /** the engine in force, for approver groups; undefined when no bundle is loaded */
  engine(): Engine | undefined;
  /** base URL of the console in approval links; default: the API listener's own URL */
  publicUrl?: string;
  /** webhook URLs for new approval requests, read at each request */
  webhookUrls?(): string[];
  /** for review rules without a timeout */
  defaultApprovalTimeoutMs?: number;
}

export interface ControlPlane {
  store: Store;
  audit: StoreAuditLog;
  approvals: ApprovalService;
  metrics: GatewayMetrics;
  /** records every bundle the source loads in the audit log; returns the unsubscribe */
  auditBundleChanges(source: BundleSource): () => void;
  /** with `tls` the API is served over HTTPS only */
  startApi(listen: HostPort, options?: { bundleStatus?(): BundleStatus | undefined; extraPlugins?: ((app: FastifyInstance) => Promise<void>)[]; tls?: ApiTls }): Promise<ApiServer>;
  /** the API (if started), webhook retries, approvals, then the audit log and the store */
  close(): Promise<void>;
}

export async function openControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { logger } = options;
  const store = await openStore(options.store, logger);
  let audit: StoreAuditLog;
  try {
    // on PostgreSQL the chain is built and written by a worker thread with its own connection;
    // the embedded store cannot be shared with one, so it is written on this thread
    audit = new StoreAuditLog(options.store.kind === "postgres" ? await startWriterThread(options.store.url, store.location, logger) : inProcessWriter(store));
  } catch (err) {
    await store.close();
    throw err;
  }
  let baseUrl = options.publicUrl?.replace(/\/+$/, "");
  const approvalUrl = (id: string): string => (baseUrl === undefined ? `(no API listener) request ${id}` : `${baseUrl}/console#approval=${id}`);
  const webhook = new WebhookNotifier({ urls: options.webhookUrls ?? (() => []), logger, approvalUrl });
  let approvals: ApprovalService;
  try {
    approvals = await ApprovalService.start({
      store, audit, logger, approvalUrl,
      verifyToken: options.verifyToken,
      groupsOf: (identity) => options.engine()?.groupsOf(identity),
      onCreated: (request) => webhook.notify(request),
      ...(options.defaultApprovalTimeoutMs !== undefined && { defaultTimeoutMs: options.defaultApprovalTimeoutMs }),
    });
  } catch (err) {
    await audit.close().catch(() => undefined);
    await store.close();
    throw err;
  }
  const metrics = createGatewayMetrics(() => approvals.pendingCount(), () => audit.backlog());
  let api: ApiServer | undefined;
  return {
    store, audit, approvals, metrics,
    auditBundleChanges(source) {
      return source.onChange((engine) => {
        audit.append({ type: "bundle_loaded", data: { sha256: engine.bundle.sha256, origin: source.status().origin } })
          .catch((err: unknown) => logger.error({ err }, "bundle change could not be audited"));
      });
    },
    async startApi(listen, extra = {}) {
      api = await startApi({
        logger, store, approvals, metrics,
        verifyToken: options.verifyToken,
        engine: options.engine,
        bundleStatus: extra.bundleStatus ?? (() => undefined),
        ...(extra.extraPlugins !== undefined && { extraPlugins: extra.extraPlugins }),
      }, listen, extra.tls);
      baseUrl ??= api.url;
      return api;
    },
    async close() {
      // every step runs even when an earlier one fails (a store that is already down)
      const step = async (what: string, run: () => Promise<void> | void): Promise<void> => {
        try {
          await run();
        } catch (err) {
          logger.error({ err }, `closing the ${what} failed`);
        }
      };
      await step("API", () => api?.close());
      await step("webhook", () => webhook.close());
      await step("approvals service", () => approvals.close());
      await step("audit log", () => audit.close());
      await step("store", () => store.close());
    },
  };
}

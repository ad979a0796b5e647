// startGateway: everything `hoopgate serve` runs, built from a loaded config — logger, bundle
// source, the store (approvals, hash-chained audit log, admin objects), token verifier,
// connection targets, TLS, the PostgreSQL listener and the API (with the console and the admin API).

import { dirname, join } from "node:path";
import { AuditBacklogError, openJsonlAuditFile, type AuditSink } from "../audit/index.js";
import { teeAuditSink } from "../audit/tee.js";
import { BundleSource } from "../bundle/source.js";
import type { GatewayConfig } from "../config/types.js";
import { isLoopbackHost } from "../config/values.js";
import { adminApiPlugin, openAdminControl, storeAdminPersistence, type AdminControl } from "../api/admin/index.js";
import { openControlPlane } from "../api/control-plane.js";
import { createLogger, type Logger } from "../log.js";
import type { ProxyContext } from "../postgres/context.js";
import { createRowMasking } from "../postgres/masks/masking-port.js";
import { startPostgresProxy } from "../postgres/server.js";
import { createAuditPort } from "./audit-port.js";
import { loadOrCreateHashKey } from "./hash-key.js";

/** How long close() waits for cut-off sessions to record their end before the audit sink closes. */
const SESSION_END_GRACE_MS = 2_000;

export interface GatewayOptions {
  /** default: pino to stderr at the config's level */
  logger?: Logger;
  /** default: the store's hash-chained audit log, teed to the JSON-lines file `audit.file` when set */
  audit?: AuditSink;
  /** key for the `hash` mask strategy; default: persisted in the state directory */
  hashKey?: Uint8Array;
}

export interface Gateway {
  /** the bound ports (a configured port 0 becomes the one the OS chose) */
  ports: { postgres?: number; api?: number };
  bundle: BundleSource | undefined;
  /** admin-managed connections, issuers and webhooks over the config's, and the admin API's options */
  admin: AdminControl;
  logger: Logger;
  /** stops the listeners, then the bundle source, then flushes the audit sink */
  close(): Promise<void>;
}

/** `.hoopgate` next to the config file: the embedded store's directory unless the store is external. */
export function stateDirectory(config: GatewayConfig): string {
  return config.store.kind === "pglite" ? config.store.dir : join(dirname(config.file), ".hoopgate");
}

export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.log.level === undefined ? {} : { level: config.log.level });
  const stateDir = stateDirectory(config);
  const cleanups: (() => Promise<void> | void)[] = [];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const hashKey = options.hashKey ?? (await loadOrCreateHashKey(stateDir));
    const bundle = config.bundle === undefined ? undefined : new BundleSource(config.bundle, logger);
    // The store behind approvals, the hash-chained audit log and the admin objects. The admin
    // state is opened right after, and only read once sessions and requests arrive.
    let admin: AdminControl | undefined;
    const plane = await openControlPlane({
      store: config.store,
      logger,
      verifyToken: (token) => admin!.live.verifier().verify(token),
      engine: () => bundle?.current(),
      webhookUrls: () => admin!.state.webhooks().map((w) => w.url),
    });
    cleanups.push(() => plane.close());
    const file = config.audit === undefined ? undefined : await openJsonlAuditFile(config.audit.file);
    if (file !== undefined) cleanups.push(() => file.close());
    const sink = options.audit ?? (file === undefined ? plane.audit : teeAuditSink([plane.audit, file]));
    if (options.audit !== undefined) cleanups.push(() => sink.close());
    admin = await openAdminControl(config, { stateDir, bundle, sink, persistence: storeAdminPersistence(plane.store) });
    const adminControl = admin;
    cleanups.push(() => adminControl.close());
    if (bundle === undefined) logger.warn("no bundle configured: every connection is refused");
    else {
      const unsubscribe = plane.auditBundleChanges(bundle);
      cleanups.push(() => bundle.close(), unsubscribe);
      await bundle.start();
    }
    const audit = createAuditPort(sink, logger);
    // runs after the listeners closed: the sessions they cut short still record their end
    cleanups.push(() => audit.drain(SESSION_END_GRACE_MS));
    const context: ProxyContext = {
      openSession(identity, connection) {
        const engine = bundle?.current();
        if (engine === undefined) return { ok: false, reason: "no policy bundle is loaded: every connection is refused", gatewayWide: true };
        const auditProblem = audit.failure();
        if (auditProblem instanceof AuditBacklogError) return { ok: false, reason: "the audit log is behind: connections are refused until it catches up", gatewayWide: true };
        if (auditProblem !== undefined) return { ok: false, reason: "the audit log cannot be written: connections are refused", gatewayWide: true };
        return engine.openSession(identity, connection);
      },
      policyChanges: (listener) => bundle?.onChange(() => listener()) ?? (() => undefined),
      // a connection or issuer changed or removed through the admin API ends the open sessions it authorized
      accessChanges: (listener) => adminControl.live.onChange(listener),
      distrust: (identity) => adminControl.live.verifier().distrust(identity),
      verifyToken: (token) => adminControl.live.verifier().verify(token),
      target: (connection) => adminControl.live.target(connection),
      masking: createRowMasking(hashKey),
      audit,
      approvals: plane.approvals,
      metrics: plane.metrics.proxy,
      allowCleartextOnLoopback: config.auth.allowCleartextOnLoopback,
      ...(config.limits !== undefined && { maxStatementBytes: config.limits.maxStatementBytes }),
      logger,
      ...(config.tls !== undefined && { tls: { cert: config.tls.cert, key: config.tls.key } }),
    };
    const ports: Gateway["ports"] = {};
    if (config.listen.postgres !== undefined) {
      const proxy = await startPostgresProxy({
        context, host: config.listen.postgres.host, port: config.listen.postgres.port,
        ...(config.limits !== undefined && { startupTimeoutMs: config.limits.startupTimeoutMs, maxConnections: config.limits.maxConnections }),
      });
      cleanups.push(() => proxy.close());
      ports.postgres = proxy.port;
      logger.info({ host: config.listen.postgres.host, port: proxy.port, tls: config.tls !== undefined }, "postgres listener ready");
    }
    if (config.listen.api !== undefined) {
      // HTTPS with the gateway's certificate, unless listen.api_plain_http says a proxy in front terminates TLS
      const tls = config.listen.apiPlainHttp === true || config.tls === undefined ? undefined : { cert: config.tls.cert, key: config.tls.key };
      // closed by plane.close()
      const api = await plane.startApi(config.listen.api, { bundleStatus: () => bundle?.status(), extraPlugins: [adminApiPlugin(adminControl)], ...(tls !== undefined && { tls }) });
      ports.api = api.port;
      logger.info({ host: config.listen.api.host, port: api.port, https: tls !== undefined }, "API listener ready");
      if (tls === undefined && !isLoopbackHost(config.listen.api.host)) {
        logger.warn({ host: config.listen.api.host }, "the API is served in plain HTTP on a non-loopback address (listen.api_plain_http): bearer tokens are protected only by the proxy in front");
      }
    }
    if (config.listen.ssh !== undefined) logger.warn({ listener: "ssh" }, "listen.ssh is not served by this version");
    return { ports, bundle, admin: adminControl, logger, close };
  } catch (error) {
    await close();
    throw error;
  }
}

// A gateway with the real approvals, audit log and API on a given store, in front of the
// machine's PostgreSQL: what `hoopgate serve` runs, assembled in-process so tests can start
// several replicas on one store and restart them.

import pg from "pg";
import type { ApprovalService } from "../../runtime/approvals/index.js";
import { openControlPlane, type ApiServer, type ApiTls } from "../../runtime/api/index.js";
import type { StoreAuditLog } from "../../runtime/audit/index.js";
import type { StoreConfig } from "../../runtime/config/types.js";
import { compileSources } from "../../compiler/index.js";
import { loadEngine, type Engine } from "../../runtime/engine/index.js";
import { createAuditPort } from "../../runtime/gateway/audit-port.js";
import { createTokenVerifier, startDevIssuer, type DevIssuer, type TokenVerifier } from "../../runtime/identity/index.js";
import { createLogger } from "../../runtime/log.js";
import type { PgTarget, ProxyContext } from "../../runtime/postgres/context.js";
import { createRowMasking } from "../../runtime/postgres/masks/masking-port.js";
import { startPostgresProxy, type PostgresProxy } from "../../runtime/postgres/server.js";
import type { Store } from "../../runtime/store/index.js";

export interface Identities {
  issuer: DevIssuer;
  engine: Engine;
  verifier: TokenVerifier;
  token(role: string, sub?: string): Promise<string>;
  close(): Promise<void>;
}

/** the token issuer and the compiled policy every replica shares */
export async function startIdentities(policy: (issuer: string) => string): Promise<Identities> {
  const issuer = await startDevIssuer();
  const compiled = compileSources([{ path: "test.hoop", text: policy(issuer.issuer) }]);
  if (compiled.bundle === undefined) throw new Error(`test policy does not compile: ${compiled.diagnostics.map((d) => d.message).join("; ")}`);
  const engine = await loadEngine(compiled.bundle);
  const verifier = createTokenVerifier([{ issuer: issuer.issuer, audience: [issuer.audience], jwks: { url: issuer.jwksUrl } }]);
  return {
    issuer, engine, verifier,
    token: (role, sub) => issuer.issue({ sub: sub ?? `${role}-1`, claims: { role } }),
    close: () => issuer.close(),
  };
}

export interface ApprovalGateway {
  proxy: PostgresProxy;
  api: ApiServer;
  approvals: ApprovalService;
  audit: StoreAuditLog;
  store: Store;
  /** a pg client to `connection` through this replica */
  client(token: string, connection?: string): pg.Client;
  /** the proxy, then the control plane (API, approvals, audit log, store) */
  close(): Promise<void>;
}

/** one gateway replica: its own store handle, control plane, proxy and API */
export async function startApprovalGateway(
  ids: Identities,
  store: StoreConfig | { kind: "memory" },
  targets: Record<string, PgTarget>,
  /** serve the API over HTTPS with this certificate */
  apiTls?: ApiTls,
): Promise<ApprovalGateway> {
  const logger = createLogger({ level: "silent" });
  const plane = await openControlPlane({ store, logger, verifyToken: (t) => ids.verifier.verify(t), engine: () => ids.engine });
  const api = await plane.startApi({ host: "127.0.0.1", port: 0 }, {
    bundleStatus: () => ({ origin: "test.hoop", sha256: ids.engine.bundle.sha256, loadedAt: new Date() }),
    ...(apiTls !== undefined && { tls: apiTls }),
  });
  const context: ProxyContext = {
    openSession: (identity, connection) => ids.engine.openSession(identity, connection),
    verifyToken: (t) => ids.verifier.verify(t),
    target: (name) => (Object.hasOwn(targets, name) ? targets[name] : undefined),
    masking: createRowMasking(Buffer.alloc(32, 7)),
    audit: createAuditPort(plane.audit, logger),
    approvals: plane.approvals,
    metrics: plane.metrics.proxy,
    allowCleartextOnLoopback: true,
    logger,
  };
  const proxy = await startPostgresProxy({ context });
  return {
    proxy, api, approvals: plane.approvals, audit: plane.audit, store: plane.store,
    client: (token, connection = "testdb") =>
      new pg.Client({ host: "127.0.0.1", port: proxy.port, user: "ci", database: connection, password: token }),
    async close() {
      await proxy.close();
      await plane.close();
    },
  };
}

/** resolves with the first NoticeResponse's approval request id */
export function heldRequest(client: pg.Client): Promise<{ id: string; message: string }> {
  return new Promise((resolve) => {
    const onNotice = (notice: { message?: string }): void => {
      const id = /request (apr_[0-9a-f]{32})/.exec(notice.message ?? "")?.[1];
      if (id === undefined) return;
      client.off("notice", onNotice);
      resolve({ id, message: notice.message ?? "" });
    };
    client.on("notice", onNotice);
  });
}

export async function decide(api: ApiServer, id: string, verb: "approve" | "deny", token: string, note?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${api.url}/api/approvals/${id}/${verb}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(note === undefined ? {} : { note }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

// The gateway's effective connections, issuers and webhooks: the config file's, plus what the
// admin API added. Objects from the config file are read-only through the API. Every change
// is persisted before it is applied, then announced to listeners (the live settings).

import { randomUUID } from "node:crypto";
import type { ConnectionConfig, ConnectionTls, GatewayConfig, IssuerConfig } from "../../config/types.js";
import { effectiveTlsMode, tlsProblems } from "../../config/upstream-tls.js";
import { parseJwksUrl, parseTarget, type Parsed } from "../../config/values.js";
import type { UpstreamAuthMethod, UpstreamTlsMode } from "../../postgres/context.js";
import type { AdminConnection, AdminConnectionTls, AdminDocument, AdminIssuer, AdminWebhook } from "./document.js";
import type { AdminPersistence } from "./persistence.js";

/** A refused change: `status` is the HTTP status the API answers with. */
export class AdminError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
    this.name = "AdminError";
  }
}

export interface ConnectionView {
  name: string;
  target: string;
  kind: "postgres" | "ssh";
  password_set: boolean;
  /** postgres only: the TLS mode in force (the default when none was set) and what was given */
  tls?: { mode: UpstreamTlsMode; ca_set: boolean; client_cert_set: boolean };
  /** postgres only, when set: the upstream login methods allowed */
  require_auth?: UpstreamAuthMethod[];
  source: "config" | "admin";
}

export interface IssuerView extends AdminIssuer {
  issuer: string;
  source: "config" | "admin";
}

export interface WebhookView extends AdminWebhook {
  id: string;
}

type Listener = () => void;

function connectionTls(tls: AdminConnectionTls): ConnectionTls {
  return {
    ...(tls.mode !== undefined && { mode: tls.mode }),
    ...(tls.ca !== undefined && { ca: tls.ca }),
    ...(tls.cert !== undefined && { cert: tls.cert }),
    ...(tls.key !== undefined && { privateKey: tls.key }),
  };
}

/** An admin connection as the gateway uses it, or why it cannot be used as given. */
function resolveConnection(name: string, entry: AdminConnection): Parsed<ConnectionConfig> {
  const target = parseTarget(entry.target);
  if (!target.ok) return { ok: false, message: `target ${target.message}` };
  const tls = entry.tls === undefined ? undefined : connectionTls(entry.tls);
  if (tls !== undefined) {
    if (target.value.kind !== "postgres") return { ok: false, message: "tls: only postgres connections take tls" };
    const problems = tlsProblems(tls, { mode: "mode", ca: "ca", cert: "cert", privateKey: "key" });
    if (problems.length > 0) return { ok: false, message: problems.map((p) => `tls.${p.field} ${p.message}`).join("; ") };
  }
  if (entry.require_auth !== undefined && target.value.kind !== "postgres") return { ok: false, message: "require_auth: only postgres connections take require_auth" };
  return {
    ok: true,
    value: {
      name, target: target.value,
      ...(entry.password !== undefined && { password: entry.password }),
      ...(tls !== undefined && { tls }),
      ...(entry.require_auth !== undefined && { requireAuth: entry.require_auth }),
    },
  };
}

function targetText(connection: ConnectionConfig): string {
  const t = connection.target;
  const host = t.host.includes(":") ? `[${t.host}]` : t.host;
  return t.kind === "postgres" ? `postgres://${encodeURIComponent(t.user)}@${host}:${t.port}/${encodeURIComponent(t.database)}` : `ssh://${encodeURIComponent(t.user)}@${host}:${t.port}`;
}

export class AdminState {
  private readonly listeners = new Set<Listener>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly config: Pick<GatewayConfig, "connections" | "issuers">,
    private readonly persistence: AdminPersistence,
    private document: AdminDocument,
  ) {}

  static async open(config: Pick<GatewayConfig, "connections" | "issuers">, persistence: AdminPersistence): Promise<AdminState> {
    const state = new AdminState(config, persistence, await persistence.load());
    state.unwatch = await persistence.watch?.(() => void state.reload());
    return state;
  }

  private unwatch: (() => Promise<void>) | undefined;

  /** Stops following other replicas' changes. */
  async close(): Promise<void> {
    await this.unwatch?.();
  }

  /** Takes what another replica saved; the last good document stays on a failed read. */
  private reload(): Promise<void> {
    const run = async (): Promise<void> => {
      this.document = await this.persistence.load();
      for (const listener of this.listeners) listener();
    };
    const done = this.queue.then(run, run);
    this.queue = done.catch(() => undefined);
    return done;
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Config connections, then admin ones (names never overlap: the API refuses that). */
  connections(): Record<string, ConnectionConfig> {
    const out: Record<string, ConnectionConfig> = { ...this.config.connections };
    for (const [name, entry] of Object.entries(this.document.connections)) {
      const connection = resolveConnection(name, entry);
      // validated on the way in; a hand-edited file cannot add a broken target or TLS setting
      if (connection.ok) out[name] = connection.value;
    }
    return out;
  }

  issuers(): IssuerConfig[] {
    return [
      ...this.config.issuers,
      ...Object.entries(this.document.issuers).map(([issuer, entry]) => ({ issuer, audience: entry.audience, jwks: { url: entry.jwks_url } })),
    ];
  }

  webhooks(): WebhookView[] {
    return Object.entries(this.document.webhooks).map(([id, entry]) => ({ id, ...entry }));
  }

  listConnections(): ConnectionView[] {
    return Object.values(this.connections()).map((c) => this.connectionView(c));
  }

  connection(name: string): ConnectionView | undefined {
    const found = this.connections()[name];
    return found === undefined ? undefined : this.connectionView(found);
  }

  putConnection(name: string, entry: AdminConnection): Promise<ConnectionView> {
    if (name in this.config.connections) throw new AdminError(409, `connection "${name}" is defined in the gateway config and cannot be changed through the API`);
    const connection = resolveConnection(name, entry);
    if (!connection.ok) throw new AdminError(400, connection.message);
    return this.change((doc) => {
      doc.connections[name] = entry;
    }, () => this.connection(name)!);
  }

  deleteConnection(name: string): Promise<void> {
    if (name in this.config.connections) throw new AdminError(409, `connection "${name}" is defined in the gateway config and cannot be deleted through the API`);
    if (!(name in this.document.connections)) throw new AdminError(404, `no connection "${name}"`);
    return this.change((doc) => {
      delete doc.connections[name];
    }, () => undefined);
  }

  listIssuers(): IssuerView[] {
    return this.issuers().map((i) => this.issuerView(i));
  }

  issuer(issuer: string): IssuerView | undefined {
    const found = this.issuers().find((i) => i.issuer === issuer);
    return found === undefined ? undefined : this.issuerView(found);
  }

  putIssuer(issuer: string, entry: AdminIssuer): Promise<IssuerView> {
    if (this.config.issuers.some((i) => i.issuer === issuer)) throw new AdminError(409, `issuer "${issuer}" is defined in the gateway config and cannot be changed through the API`);
    const url = parseJwksUrl(entry.jwks_url);
    if (!url.ok) throw new AdminError(400, `jwks_url ${url.message}`);
    return this.change((doc) => {
      doc.issuers[issuer] = { audience: entry.audience, jwks_url: url.value };
    }, () => this.issuer(issuer)!);
  }

  deleteIssuer(issuer: string): Promise<void> {
    if (this.config.issuers.some((i) => i.issuer === issuer)) throw new AdminError(409, `issuer "${issuer}" is defined in the gateway config and cannot be deleted through the API`);
    if (!(issuer in this.document.issuers)) throw new AdminError(404, `no issuer "${issuer}"`);
    return this.change((doc) => {
      delete doc.issuers[issuer];
    }, () => undefined);
  }

  webhook(id: string): WebhookView | undefined {
    const found = this.document.webhooks[id];
    return found === undefined ? undefined : { id, ...found };
  }

  putWebhook(id: string | undefined, entry: AdminWebhook): Promise<WebhookView> {
    if (id !== undefined && !(id in this.document.webhooks)) throw new AdminError(404, `no webhook "${id}"`);
    const key = id ?? randomUUID();
    return this.change((doc) => {
      doc.webhooks[key] = { url: entry.url };
    }, () => this.webhook(key)!);
  }

  deleteWebhook(id: string): Promise<void> {
    if (!(id in this.document.webhooks)) throw new AdminError(404, `no webhook "${id}"`);
    return this.change((doc) => {
      delete doc.webhooks[id];
    }, () => undefined);
  }

  /** Changes run one at a time: persisted first, applied only once saved. */
  private change<T>(edit: (doc: AdminDocument) => void, result: () => T): Promise<T> {
    const run = async (): Promise<T> => {
      const next = structuredClone(this.document);
      edit(next);
      await this.persistence.save(next);
      this.document = next;
      for (const listener of this.listeners) listener();
      return result();
    };
    const done = this.queue.then(run, run);
    this.queue = done.catch(() => undefined);
    return done;
  }

  private connectionView(c: ConnectionConfig): ConnectionView {
    return {
      name: c.name,
      target: this.document.connections[c.name]?.target ?? targetText(c),
      kind: c.target.kind,
      password_set: c.password !== undefined,
      ...(c.target.kind === "postgres" && {
        tls: {
          mode: effectiveTlsMode(c.target.host, c.password !== undefined, c.tls),
          ca_set: c.tls?.ca !== undefined,
          client_cert_set: c.tls?.cert !== undefined,
        },
      }),
      ...(c.requireAuth !== undefined && { require_auth: c.requireAuth }),
      source: c.name in this.config.connections ? "config" : "admin",
    };
  }

  private issuerView(i: IssuerConfig): IssuerView {
    const source = this.config.issuers.includes(i) ? "config" : "admin";
    return { issuer: i.issuer, audience: i.audience, jwks_url: "url" in i.jwks ? i.jwks.url : "", source };
  }
}

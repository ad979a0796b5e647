// What the admin API adds to the config file's bootstrap: connections, token issuers and
// approval webhooks, as persisted. Secrets (connection passwords) are stored as given, so the
// persistence must be private to the gateway (the JSON file is mode 0600).

import type { UpstreamAuthMethod, UpstreamTlsMode } from "../../postgres/context.js";

export interface AdminConnection {
  /** postgres://user@host:port/db or ssh://user@host:port */
  target: string;
  password?: string;
  /** postgres only; absent or partial: the default (runtime/config/upstream-tls.ts) */
  tls?: AdminConnectionTls;
  /** postgres only: the upstream login methods allowed; absent: the default (server-connect.ts) */
  require_auth?: UpstreamAuthMethod[];
}

/** TLS to the target, PEMs given inline (the API's clients do not see the gateway's files). */
export interface AdminConnectionTls {
  mode?: UpstreamTlsMode;
  ca?: string;
  cert?: string;
  /** a secret, stored as given like the password */
  key?: string;
}

export interface AdminIssuer {
  audience: string[];
  jwks_url: string;
}

export interface AdminWebhook {
  url: string;
}

export interface AdminDocument {
  connections: Record<string, AdminConnection>;
  issuers: Record<string, AdminIssuer>;
  webhooks: Record<string, AdminWebhook>;
}

export function emptyAdminDocument(): AdminDocument {
  return { connections: {}, issuers: {}, webhooks: {} };
}

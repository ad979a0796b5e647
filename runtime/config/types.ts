// The gateway configuration as the rest of the runtime sees it (DESIGN.md §5): validated,
// relative paths made absolute, durations in milliseconds, key files read, secrets resolved.

import type { JWK } from "jose";
import type { LogLevel } from "../log.js";
import type { TokenAlgorithm } from "../identity/algorithms.js";
import type { UpstreamAuthMethod, UpstreamTlsMode } from "../postgres/context.js";

export interface HostPort {
  host: string;
  /** 0 asks the OS for a free port */
  port: number;
}

export interface TrustedKey {
  kid: string;
  key: JWK;
}

export type BundleLocation =
  | { kind: "file"; path: string }
  | { kind: "url"; url: string }
  /** `url` is `s3://bucket/key` as written; the key is taken literally (no percent-decoding) */
  | { kind: "s3"; url: string; bucket: string; key: string };

export interface BundleConfig {
  location: BundleLocation;
  /** trusted bundle signing keys; empty only when `allowUnsigned` */
  keys: TrustedKey[];
  /** polling interval for every kind of location (files are also watched); default 30 s */
  reloadIntervalMs: number;
  /** development only: accept a plain JSON bundle; never together with keys */
  allowUnsigned: boolean;
}

export type JwksSource = { url: string } | { keys: JWK[] };

export interface IssuerConfig {
  /** exact `iss` value */
  issuer: string;
  /** accepted `aud` values: the token must carry one of them */
  audience: string[];
  jwks: JwksSource;
  /** default: RS256, ES256, EdDSA */
  algorithms?: TokenAlgorithm[];
  /** tolerance for `exp`/`nbf`; default 30 */
  clockSkewSeconds?: number;
  /** a token whose `exp` lies further ahead than this is refused; default 24 h (runtime/identity/README.md) */
  maxTokenLifetimeSeconds?: number;
}

export type ConnectionTarget =
  | { kind: "postgres"; host: string; port: number; user: string; database: string }
  | { kind: "ssh"; host: string; port: number; user: string };

export interface ConnectionConfig {
  name: string;
  target: ConnectionTarget;
  /** resolved secret */
  password?: string;
  /** resolved secret (PEM); ssh only */
  privateKey?: string;
  /** postgres only: TLS to the target as written; absent or partial: the default (upstream-tls.ts) */
  tls?: ConnectionTls;
  /** postgres only: the upstream login methods allowed; absent: the default (server-connect.ts `defaultAuthMethods`) */
  requireAuth?: UpstreamAuthMethod[];
}

/** A connection's `tls` with its PEMs read. */
export interface ConnectionTls {
  mode?: UpstreamTlsMode;
  ca?: string;
  cert?: string;
  /** resolved secret */
  privateKey?: string;
}

export type StoreConfig = { kind: "postgres"; url: string } | { kind: "pglite"; dir: string };

export interface TlsConfig {
  certFile: string;
  keyFile: string;
  /** PEM contents, read at load */
  cert: string;
  key: string;
}

export interface GatewayConfig {
  /** absolute path of the file this was loaded from */
  file: string;
  /**
   * The API is served over HTTPS with `tls` when that is set, unless `apiPlainHttp` (then plain
   * HTTP, e.g. behind a TLS-terminating proxy); without `tls`, plain HTTP, which resolve.ts
   * allows on loopback only unless `apiPlainHttp` is set. Present only when true.
   */
  listen: { postgres?: HostPort; ssh?: HostPort; api?: HostPort; apiPlainHttp?: true };
  bundle?: BundleConfig;
  issuers: IssuerConfig[];
  connections: Record<string, ConnectionConfig>;
  store: StoreConfig;
  tls?: TlsConfig;
  /** the token is asked for as a cleartext password only over TLS, unless this allows loopback */
  auth: { allowCleartextOnLoopback: boolean };
  audit?: { file: string };
  /** absent (a config built in code): the defaults; loadConfig always sets it */
  limits?: LimitsConfig;
  log: { level?: LogLevel };
  /** who may use the admin API; absent: the admin API refuses everyone */
  admin?: AdminAuthConfig;
}

export interface LimitsConfig {
  /** the largest Query or Parse message a client may send (runtime/postgres/statement-limit.ts) */
  maxStatementBytes: number;
  /** how long a PostgreSQL client has from connecting to being authenticated (runtime/postgres/client-startup.ts) */
  startupTimeoutMs: number;
  /** PostgreSQL client connections open at once, in startup or in session (runtime/postgres/server.ts) */
  maxConnections: number;
}

export interface AdminAuthConfig {
  /** bootstrap bearer token (resolved secret) */
  token?: string;
  /** tokens from this trusted issuer whose `groups` claim holds `group` are admins */
  group?: { issuer: string; name: string };
}

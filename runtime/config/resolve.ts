// From a schema-valid document to GatewayConfig: paths made absolute against the config
// file's directory, URLs and durations parsed, key files read, secrets resolved, and the
// rules that span keys checked. Every problem is collected with its key path.

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { JWK } from "jose";
import type { RawConfig, RawConnectionTls } from "./schema.js";
import { keyPath, type ConfigIssue, type KeySegment } from "./errors.js";
import { errorCode, resolveSecret } from "./secrets.js";
import { tlsProblems } from "./upstream-tls.js";
import { DEFAULT_MAX_STATEMENT_BYTES, MAX_CLIENT_MESSAGE } from "../postgres/statement-limit.js";
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_STARTUP_TIMEOUT_MS } from "../postgres/client-startup.js";
import { checkPublicJwk, durationMs, isLoopbackHost, parseBundleUrl, parseHostPort, parseJwksUrl, parseTarget, sizeBytes, type Parsed } from "./values.js";
import type {
  AdminAuthConfig,
  BundleConfig,
  ConnectionConfig,
  ConnectionTls,
  GatewayConfig,
  IssuerConfig,
  LimitsConfig,
  StoreConfig,
  TlsConfig,
  TrustedKey,
} from "./types.js";

const BUNDLE_KEY_TYPES = ["OKP", "EC"];
const TOKEN_KEY_TYPES = ["RSA", "EC", "OKP"];
const DEFAULT_RELOAD_MS = 30_000;
/** a statement limit below this would refuse ordinary statements */
const MIN_STATEMENT_LIMIT = 1024;
/** PostgreSQL's bounds for authentication_timeout */
const MIN_STARTUP_TIMEOUT_MS = 1000;
const MAX_STARTUP_TIMEOUT_MS = 600_000;

type Raw<K extends keyof RawConfig> = NonNullable<RawConfig[K]>;

class Resolver {
  readonly issues: ConfigIssue[] = [];

  constructor(
    readonly baseDir: string,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  fail(at: KeySegment[], message: string): undefined {
    this.issues.push({ path: keyPath(at), message });
    return undefined;
  }

  take<T>(at: KeySegment[], parsed: Parsed<T>): T | undefined {
    return parsed.ok ? parsed.value : this.fail(at, parsed.message);
  }

  path(relative: string): string {
    return resolve(this.baseDir, relative);
  }

  /** `at` ends with the key's name, which picks the field of a JSON Secrets Manager secret. */
  async secret(at: [...KeySegment[], string], reference: string | undefined): Promise<string | undefined> {
    if (reference === undefined) return undefined;
    return this.take(at, await resolveSecret(reference, { baseDir: this.baseDir, env: this.env, field: at[at.length - 1] as string }));
  }

  async readText(at: KeySegment[], relative: string): Promise<string | undefined> {
    const file = this.path(relative);
    try {
      return await readFile(file, "utf8");
    } catch (error) {
      return this.fail(at, `cannot read ${file} (${errorCode(error)})`);
    }
  }

  listen(raw: RawConfig["listen"], tls: boolean): GatewayConfig["listen"] {
    const out: GatewayConfig["listen"] = {};
    for (const name of ["postgres", "ssh", "api"] as const) {
      const text = raw[name];
      if (text !== undefined) out[name] = this.take(["listen", name], parseHostPort(text));
    }
    if (raw.api_plain_http === true) {
      if (raw.api === undefined) this.fail(["listen", "api_plain_http"], "has no effect without listen.api");
      out.apiPlainHttp = true;
    } else if (out.api !== undefined && !tls && !isLoopbackHost(out.api.host)) {
      // approvers' and admins' bearer tokens (and the Terraform provider's calls) would cross the network in clear
      this.fail(["listen", "api"], "is not a loopback address and there is no tls: configure tls (cert_file, key_file) to serve the API over HTTPS, or set listen.api_plain_http: true if a TLS-terminating proxy fronts it");
    }
    return out;
  }

  async bundle(raw: Raw<"bundle">): Promise<BundleConfig | undefined> {
    const at = ["bundle"];
    const keys: TrustedKey[] = [];
    const rawKeys = raw.keys ?? [];
    for (const [i, entry] of rawKeys.entries()) {
      const key = await this.trustedKey(["bundle", "keys", i], entry);
      if (key !== undefined) keys.push(key);
    }
    const kids = rawKeys.map((k) => k.kid);
    kids.forEach((kid, i) => kids.indexOf(kid) !== i && this.fail(["bundle", "keys", i, "kid"], `duplicate kid "${kid}"`));
    const allowUnsigned = raw.allow_unsigned ?? false;
    if (allowUnsigned && rawKeys.length > 0) {
      this.fail([...at, "allow_unsigned"], "cannot be true when bundle.keys are configured (signed bundles only)");
    }
    if (!allowUnsigned && rawKeys.length === 0) {
      this.fail([...at, "keys"], "at least one trusted key is required (allow_unsigned: true is for development only)");
    }
    const reloadIntervalMs = raw.reload_interval === undefined ? DEFAULT_RELOAD_MS : durationMs(raw.reload_interval);
    if (reloadIntervalMs < 1000) this.fail([...at, "reload_interval"], "must be at least 1s");
    if ((raw.path === undefined) === (raw.url === undefined)) return this.fail(at, "set exactly one of path or url");
    if (raw.path !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(raw.path)) {
      return this.fail([...at, "path"], "is a file path; put s3:// and https:// sources in bundle.url");
    }
    const location = raw.path !== undefined
      ? { kind: "file" as const, path: this.path(raw.path) }
      : this.take([...at, "url"], parseBundleUrl(raw.url ?? ""));
    return location === undefined ? undefined : { location, keys, reloadIntervalMs, allowUnsigned };
  }

  async trustedKey(at: KeySegment[], raw: { kid: string; jwk_file?: string; jwk?: Record<string, unknown> }) {
    if ((raw.jwk === undefined) === (raw.jwk_file === undefined)) return this.fail(at, "set exactly one of jwk_file or jwk");
    let jwk = raw.jwk;
    if (raw.jwk_file !== undefined) {
      const text = await this.readText([...at, "jwk_file"], raw.jwk_file);
      if (text === undefined) return undefined;
      try {
        jwk = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return this.fail([...at, "jwk_file"], `${this.path(raw.jwk_file)} is not a JSON Web Key (invalid JSON)`);
      }
      if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) {
        return this.fail([...at, "jwk_file"], `${this.path(raw.jwk_file)} is not a JSON Web Key`);
      }
    }
    const where = [...at, raw.jwk_file !== undefined ? "jwk_file" : "jwk"];
    const key = this.take(where, checkPublicJwk(jwk ?? {}, BUNDLE_KEY_TYPES));
    return key === undefined ? undefined : { kid: raw.kid, key: { ...key, kid: raw.kid } };
  }

  issuers(raw: Raw<"issuers">): IssuerConfig[] {
    const out: IssuerConfig[] = [];
    const names = raw.map((i) => i.issuer);
    for (const [i, entry] of raw.entries()) {
      const at = ["issuers", i];
      if (names.indexOf(entry.issuer) !== i) this.fail([...at, "issuer"], `duplicate issuer "${entry.issuer}"`);
      const jwks = this.jwks(at, entry);
      if (jwks === undefined) continue;
      out.push({
        issuer: entry.issuer,
        audience: typeof entry.audience === "string" ? [entry.audience] : entry.audience,
        jwks,
        ...(entry.algorithms && { algorithms: entry.algorithms as IssuerConfig["algorithms"] }),
        ...(entry.clock_skew !== undefined && { clockSkewSeconds: durationMs(entry.clock_skew) / 1000 }),
        ...(entry.max_token_lifetime !== undefined && { maxTokenLifetimeSeconds: durationMs(entry.max_token_lifetime) / 1000 }),
      });
      if (entry.max_token_lifetime !== undefined && durationMs(entry.max_token_lifetime) < 60_000) {
        this.fail([...at, "max_token_lifetime"], "must be at least 1m");
      }
    }
    return out;
  }

  jwks(at: KeySegment[], raw: Raw<"issuers">[number]): IssuerConfig["jwks"] | undefined {
    if ((raw.jwks === undefined) === (raw.jwks_url === undefined)) return this.fail(at, "set exactly one of jwks_url or jwks");
    if (raw.jwks_url !== undefined) {
      const url = this.take([...at, "jwks_url"], parseJwksUrl(raw.jwks_url));
      return url === undefined ? undefined : { url };
    }
    const keys: JWK[] = [];
    for (const [k, jwk] of (raw.jwks?.keys ?? []).entries()) {
      const key = this.take([...at, "jwks", "keys", k], checkPublicJwk(jwk, TOKEN_KEY_TYPES));
      if (key !== undefined) keys.push(key);
    }
    return { keys };
  }

  async connections(raw: Raw<"connections">): Promise<Record<string, ConnectionConfig>> {
    const out: Record<string, ConnectionConfig> = {};
    for (const [name, entry] of Object.entries(raw)) {
      const at = ["connections", name];
      const target = this.take([...at, "target"], parseTarget(entry.target));
      if (entry.private_key !== undefined && target?.kind === "postgres") {
        this.fail([...at, "private_key"], "only ssh connections take a private_key");
      }
      if (entry.tls !== undefined && target?.kind === "ssh") this.fail([...at, "tls"], "only postgres connections take tls");
      if (entry.require_auth !== undefined && target?.kind === "ssh") this.fail([...at, "require_auth"], "only postgres connections take require_auth");
      const duplicate = entry.require_auth?.find((m, i, all) => all.indexOf(m) !== i);
      if (duplicate !== undefined) this.fail([...at, "require_auth"], `lists ${duplicate} twice`);
      const password = await this.secret([...at, "password"], entry.password);
      const privateKey = await this.secret([...at, "private_key"], entry.private_key);
      const tls = entry.tls === undefined ? undefined : await this.connectionTls([...at, "tls"], entry.tls);
      if (target === undefined) continue;
      out[name] = {
        name,
        target,
        ...(password !== undefined && { password }),
        ...(privateKey !== undefined && { privateKey }),
        ...(tls !== undefined && { tls }),
        ...(entry.require_auth !== undefined && { requireAuth: entry.require_auth }),
      };
    }
    return out;
  }

  async connectionTls(at: KeySegment[], raw: RawConnectionTls): Promise<ConnectionTls> {
    const issues = this.issues.length;
    const ca = await this.pem([...at, "ca_file"], raw.ca_file);
    const cert = await this.pem([...at, "cert_file"], raw.cert_file);
    const privateKey = await this.pem([...at, "key_file"], raw.key_file);
    const tls: ConnectionTls = {
      ...(raw.mode !== undefined && { mode: raw.mode }),
      ...(ca !== undefined && { ca }),
      ...(cert !== undefined && { cert }),
      ...(privateKey !== undefined && { privateKey }),
    };
    // a file that could not be read is reported already; the checks would only repeat it
    if (this.issues.length === issues) {
      for (const problem of tlsProblems(tls, { mode: "mode", ca: "ca_file", cert: "cert_file", privateKey: "key_file" })) this.fail([...at, problem.field], problem.message);
    }
    return tls;
  }

  /** A PEM given as a path (like the other *_file keys) or as a secret reference (env:, file:, an ARN). */
  async pem(at: [...KeySegment[], string], value: string | undefined): Promise<string | undefined> {
    if (value === undefined) return undefined;
    return /^(env|file|arn):/.test(value) ? this.secret(at, value) : this.readText(at, value);
  }

  async admin(raw: Raw<"admin">, issuers: Raw<"issuers">): Promise<AdminAuthConfig | undefined> {
    if ((raw.issuer === undefined) !== (raw.group === undefined)) return this.fail(["admin"], "set issuer and group together");
    if (raw.token === undefined && raw.issuer === undefined) return this.fail(["admin"], "set token, or issuer and group");
    if (raw.issuer !== undefined && !issuers.some((i) => i.issuer === raw.issuer)) {
      this.fail(["admin", "issuer"], `"${raw.issuer}" is not one of the configured issuers`);
    }
    const token = await this.secret(["admin", "token"], raw.token);
    if (token !== undefined && token.length < 16) this.fail(["admin", "token"], "must be at least 16 characters");
    return {
      ...(token !== undefined && { token }),
      ...(raw.issuer !== undefined && raw.group !== undefined && { group: { issuer: raw.issuer, name: raw.group } }),
    };
  }

  limits(raw: RawConfig["limits"]): LimitsConfig {
    const size = raw?.max_statement_size;
    const maxStatementBytes = size === undefined ? DEFAULT_MAX_STATEMENT_BYTES : sizeBytes(size);
    if (maxStatementBytes < MIN_STATEMENT_LIMIT) this.fail(["limits", "max_statement_size"], "must be at least 1KiB");
    if (maxStatementBytes > MAX_CLIENT_MESSAGE) this.fail(["limits", "max_statement_size"], "must be at most 64MiB (the largest message a client may send)");
    const timeout = raw?.startup_timeout;
    const startupTimeoutMs = timeout === undefined ? DEFAULT_STARTUP_TIMEOUT_MS : durationMs(timeout);
    if (startupTimeoutMs < MIN_STARTUP_TIMEOUT_MS) this.fail(["limits", "startup_timeout"], "must be at least 1s");
    if (startupTimeoutMs > MAX_STARTUP_TIMEOUT_MS) this.fail(["limits", "startup_timeout"], "must be at most 10m");
    return { maxStatementBytes, startupTimeoutMs, maxConnections: raw?.max_connections ?? DEFAULT_MAX_CONNECTIONS };
  }

  async store(raw: string | undefined): Promise<StoreConfig> {
    if (raw === undefined) return { kind: "pglite", dir: this.path(".hoopgate") };
    const url = await this.secret(["store"], raw);
    if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) {
      this.fail(["store"], "must be a postgres:// URL (omit it for the embedded store)");
    }
    return { kind: "postgres", url: url ?? "" };
  }

  async tls(raw: Raw<"tls">): Promise<TlsConfig | undefined> {
    const cert = await this.readText(["tls", "cert_file"], raw.cert_file);
    const key = await this.readText(["tls", "key_file"], raw.key_file);
    if (cert === undefined || key === undefined) return undefined;
    return { certFile: this.path(raw.cert_file), keyFile: this.path(raw.key_file), cert, key };
  }
}

export type Resolved = { ok: true; config: Omit<GatewayConfig, "file"> } | { ok: false; issues: ConfigIssue[] };

export async function resolveConfig(raw: RawConfig, baseDir: string, env: NodeJS.ProcessEnv): Promise<Resolved> {
  const r = new Resolver(baseDir, env);
  const config = {
    listen: r.listen(raw.listen, raw.tls !== undefined),
    bundle: raw.bundle && (await r.bundle(raw.bundle)),
    issuers: r.issuers(raw.issuers ?? []),
    connections: await r.connections(raw.connections ?? {}),
    store: await r.store(raw.store),
    tls: raw.tls && (await r.tls(raw.tls)),
    auth: { allowCleartextOnLoopback: raw.auth?.allow_cleartext_on_loopback ?? false },
    audit: raw.audit && { file: r.path(raw.audit.file) },
    limits: r.limits(raw.limits),
    log: { ...(raw.log?.level !== undefined && { level: raw.log.level }) },
    admin: raw.admin && (await r.admin(raw.admin, raw.issuers ?? [])),
  };
  return r.issues.length > 0 ? { ok: false, issues: r.issues } : { ok: true, config };
}

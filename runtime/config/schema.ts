// JSON Schema for gateway.yaml, and the shape of a document that passed it. The schema checks
// shapes and spellings; resolve.ts checks what needs the file system or more than one key.
// `message` is our own annotation: the text shown when a `pattern` fails.

import { SUPPORTED_ALGORITHMS } from "../identity/algorithms.js";
import { LOG_LEVELS, type LogLevel } from "../log.js";
import { UPSTREAM_AUTH_METHODS, type UpstreamAuthMethod, type UpstreamTlsMode } from "../postgres/context.js";
import { TLS_MODES } from "./upstream-tls.js";

type JwkObject = Record<string, unknown>;

export interface RawConfig {
  listen: { postgres?: string; ssh?: string; api?: string; api_plain_http?: boolean };
  bundle?: {
    path?: string;
    url?: string;
    keys?: { kid: string; jwk_file?: string; jwk?: JwkObject }[];
    reload_interval?: string | number;
    allow_unsigned?: boolean;
  };
  issuers?: {
    issuer: string;
    audience: string | string[];
    jwks_url?: string;
    jwks?: { keys: JwkObject[] };
    algorithms?: string[];
    clock_skew?: string | number;
    max_token_lifetime?: string | number;
  }[];
  connections?: Record<string, { target: string; password?: string; private_key?: string; tls?: RawConnectionTls; require_auth?: UpstreamAuthMethod[] }>;
  store?: string;
  tls?: { cert_file: string; key_file: string };
  auth?: { allow_cleartext_on_loopback?: boolean };
  audit?: { file: string };
  limits?: { max_statement_size?: string | number; startup_timeout?: string | number; max_connections?: number };
  log?: { level?: LogLevel };
  admin?: { token?: string; issuer?: string; group?: string };
}

export interface RawConnectionTls {
  mode?: UpstreamTlsMode;
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
}

const HOST_PORT = {
  type: "string",
  pattern: "^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$",
  message: "must be host:port (e.g. 127.0.0.1:15432)",
};

const DURATION = {
  type: ["string", "integer"],
  pattern: "^[0-9]+(ms|s|m|h|d)$",
  minimum: 0,
  message: "must be a duration such as 500ms, 30s, 15m, 2h or a number of seconds",
};

const SIZE = {
  type: ["string", "integer"],
  pattern: "^[0-9]+(KiB|MiB)$",
  minimum: 0,
  message: "must be a size such as 512KiB, 8MiB or a number of bytes",
};

const NON_EMPTY = { type: "string", minLength: 1 };

const JWK = {
  type: "object",
  required: ["kty"],
  properties: { kty: NON_EMPTY },
};

const object = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: "object",
  additionalProperties: false,
  properties,
  required,
});

export const configSchema = object(
  {
    listen: {
      ...object({ postgres: HOST_PORT, ssh: HOST_PORT, api: HOST_PORT, api_plain_http: { type: "boolean" } }),
      minProperties: 1,
    },
    bundle: object(
      {
        path: NON_EMPTY,
        url: { type: "string", pattern: "^(https?|s3)://", message: "must be an https:// or s3:// URL (http:// only on loopback)" },
        keys: {
          type: "array",
          items: object({ kid: NON_EMPTY, jwk_file: NON_EMPTY, jwk: JWK }, ["kid"]),
        },
        reload_interval: DURATION,
        allow_unsigned: { type: "boolean" },
      },
    ),
    issuers: {
      type: "array",
      items: object(
        {
          issuer: NON_EMPTY,
          audience: { type: ["string", "array"], minLength: 1, minItems: 1, items: NON_EMPTY },
          jwks_url: { type: "string", pattern: "^https?://", message: "must be an https:// URL" },
          jwks: object({ keys: { type: "array", minItems: 1, items: JWK } }, ["keys"]),
          algorithms: { type: "array", minItems: 1, items: { enum: [...SUPPORTED_ALGORITHMS] } },
          clock_skew: DURATION,
          max_token_lifetime: DURATION,
        },
        ["issuer", "audience"],
      ),
    },
    connections: {
      type: "object",
      propertyNames: {
        pattern: "^[A-Za-z_][A-Za-z0-9_-]*$",
        message: "is not a valid connection name (letters, digits, _ and -, not starting with a digit or -)",
      },
      additionalProperties: object(
        {
          target: {
            type: "string",
            pattern: "^(postgres|postgresql|ssh)://",
            message: "must be a postgres:// or ssh:// URL",
          },
          password: NON_EMPTY,
          private_key: NON_EMPTY,
          tls: object({ mode: { enum: [...TLS_MODES] }, ca_file: NON_EMPTY, cert_file: NON_EMPTY, key_file: NON_EMPTY }),
          require_auth: { type: "array", minItems: 1, items: { enum: [...UPSTREAM_AUTH_METHODS] } },
        },
        ["target"],
      ),
    },
    store: NON_EMPTY,
    tls: object({ cert_file: NON_EMPTY, key_file: NON_EMPTY }, ["cert_file", "key_file"]),
    auth: object({ allow_cleartext_on_loopback: { type: "boolean" } }),
    audit: object({ file: NON_EMPTY }, ["file"]),
    limits: object({ max_statement_size: SIZE, startup_timeout: DURATION, max_connections: { type: "integer", minimum: 1 } }),
    log: object({ level: { enum: [...LOG_LEVELS] } }),
    admin: object({ token: NON_EMPTY, issuer: NON_EMPTY, group: NON_EMPTY }),
  },
  ["listen"],
);

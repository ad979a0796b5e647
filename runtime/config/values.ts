// Parsers for the config's scalar values. Each returns the value or a message for the key.

import type { JWK } from "jose";
import type { BundleLocation, ConnectionTarget, HostPort } from "./types.js";

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(message: string): Parsed<T> => ({ ok: false, message });

export function parseHostPort(text: string): Parsed<HostPort> {
  const colon = text.lastIndexOf(":");
  const port = Number(text.slice(colon + 1));
  if (port > 65535) return bad("port must be at most 65535");
  return ok({ host: text.slice(0, colon).replace(/^\[(.*)\]$/, "$1"), port });
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `30s`, `15m`, `2h`, `7d`, or a number of seconds (the schema checked the form). */
export function durationMs(value: string | number): number {
  if (typeof value === "number") return value * 1000;
  const match = /^(\d+)([a-z]+)$/.exec(value);
  return Number(match?.[1]) * (UNIT_MS[match?.[2] ?? ""] ?? Number.NaN);
}

const UNIT_BYTES: Record<string, number> = { KiB: 1024, MiB: 1024 * 1024 };

/** `512KiB`, `8MiB`, or a number of bytes (the schema checked the form). */
export function sizeBytes(value: string | number): number {
  if (typeof value === "number") return value;
  const match = /^(\d+)([A-Za-z]+)$/.exec(value);
  return Number(match?.[1]) * (UNIT_BYTES[match?.[2] ?? ""] ?? Number.NaN);
}

export function parseTarget(text: string): Parsed<ConnectionTarget> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return bad("must be a postgres:// or ssh:// URL");
  }
  if (url.password !== "") return bad("must not contain a password: use the password key (env: or file:)");
  if (url.search !== "" || url.hash !== "") return bad("must not have query parameters or a fragment");
  if (url.hostname === "") return bad("must name a host");
  const user = decodeURIComponent(url.username);
  if (user === "") return bad("must name the user (postgres://USER@host:port/db, ssh://USER@host:port)");
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (url.protocol === "ssh:") {
    if (url.pathname !== "" && url.pathname !== "/") return bad("an ssh:// URL takes no path");
    return ok({ kind: "ssh", host, port: url.port === "" ? 22 : Number(url.port), user });
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (database.includes("/")) return bad("the path must be one database name");
  return ok({
    kind: "postgres",
    host,
    port: url.port === "" ? 5432 : Number(url.port),
    user,
    database: database === "" ? user : database,
  });
}

const S3_URL = /^s3:\/\/([^/]*)\/(.*)$/s;
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * `bundle.url`: https as written (the schema checked the scheme; http only on loopback: a
 * bundle fetched in plain HTTP can be swapped on the way for an older signed one), or
 * `s3://bucket/key`. No user:password@ (fetch refuses to send it, and it is a credential).
 */
export function parseBundleUrl(text: string): Parsed<BundleLocation> {
  if (!text.startsWith("s3://")) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return bad("must be an https:// or s3:// URL");
    }
    if (url.username !== "" || url.password !== "") return bad("must not carry a user name or password (user:password@): use a presigned URL, or s3:// with the gateway's AWS credentials");
    if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
      return bad("must be an https:// or s3:// URL (http:// only on loopback: over plain HTTP anyone on the way can serve an older signed bundle)");
    }
    return ok({ kind: "url", url: text });
  }
  const match = S3_URL.exec(text);
  if (match === null) return bad("must be s3://BUCKET/KEY");
  const [, bucket = "", key = ""] = match;
  if (!S3_BUCKET.test(bucket)) return bad("must name an S3 bucket (3 to 63 lowercase letters, digits, dots and hyphens): s3://BUCKET/KEY");
  if (key === "") return bad("must name the object's key: s3://BUCKET/KEY");
  return ok({ kind: "s3", url: text, bucket, key });
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** True for `localhost`, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === "::1";
}

/** Keys are fetched over https; plain http only from this machine (dev issuers, tests). */
export function parseJwksUrl(text: string): Parsed<string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return bad("must be an https:// URL");
  }
  if (url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname))) return ok(url.href);
  return bad("must be an https:// URL (http:// only on loopback)");
}

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k"];

/** A verification key: public, asymmetric, of an accepted key type. */
export function checkPublicJwk(jwk: Record<string, unknown>, ktys: readonly string[]): Parsed<JWK> {
  if (jwk.kty === "oct") return bad("symmetric (oct) keys are not accepted");
  if (typeof jwk.kty !== "string" || !ktys.includes(jwk.kty)) {
    return bad(`key type must be one of ${ktys.join(", ")}`);
  }
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) return bad("is a private key: configure the public key only");
  return ok(jwk as JWK);
}

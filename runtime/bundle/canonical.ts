// Canonical JSON for hashing and signing bundles: object keys sorted by UTF-16 code units, no
// whitespace, numbers and strings as JSON.stringify writes them (the RFC 8785 rules for the
// values a bundle holds). Anything JSON cannot represent faithfully is an error, never dropped.

import { createHash } from "node:crypto";

export function canonicalJson(value: unknown): string {
  try {
    return write(value, undefined);
  } catch (err) {
    // the fast pass builds no paths; only a failure pays for locating itself
    if (err instanceof Unlocated) return write(value, "$");
    throw err;
  }
}

class Unlocated extends Error {}

function fail(path: string | undefined, message: string): never {
  if (path === undefined) throw new Unlocated(message);
  throw new Error(`${path}: ${message}`);
}

/** sha256 (hex) of the canonical JSON of `bundle` without its `sha256` key. */
export function bundleDigest(bundle: object): string {
  const { sha256: _ignored, ...rest } = bundle as Record<string, unknown>;
  return createHash("sha256").update(canonicalJson(rest), "utf8").digest("hex");
}

function write(value: unknown, path: string | undefined): string {
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) fail(path, `${value} has no JSON form`);
      return JSON.stringify(value);
    case "object":
      if (value === null) return "null";
      if (Array.isArray(value)) return writeArray(value, path);
      return writeObject(value, path);
    default:
      return fail(path, `a ${typeof value} has no JSON form`);
  }
}

// Both writers append to one string: no array of parts per object, one rope V8 flattens once.
function writeArray(value: unknown[], path: string | undefined): string {
  let out = "[";
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out += ",";
    // a hole is undefined here, which has no JSON form: an error, as for any undefined item
    out += write(value[i], path === undefined ? undefined : `${path}[${i}]`);
  }
  return out + "]";
}

function writeObject(value: object, path: string | undefined): string {
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) fail(path, "only plain objects have a canonical JSON form");
  const record = value as Record<string, unknown>;
  let out = "{";
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue; // as JSON.stringify: an absent optional field
    if (out.length > 1) out += ",";
    out += JSON.stringify(key) + ":" + write(item, path === undefined ? undefined : `${path}.${key}`);
  }
  return out + "}";
}

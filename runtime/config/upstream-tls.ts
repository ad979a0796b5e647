// A postgres connection's `tls`: how the gateway protects its own connection to the target.
// The config file and the admin API share these rules; only the field names differ.
//
// The default fails closed: `verify-full` (the target's certificate must chain to `ca`, or to
// Node's public roots without one, and name the target's host). Plain TCP is the default only
// for a loopback target with no password and no TLS settings (the demo's embedded database, a
// local trust-auth server), where nothing crosses a network and no password can leak. Anywhere
// else plaintext takes an explicit `mode: disable`, so a password (cleartext, md5) never goes
// out unencrypted unless the config says so.

import { X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import type { UpstreamTls, UpstreamTlsMode } from "../postgres/context.js";
import type { ConnectionTls } from "./types.js";
import { isLoopbackHost } from "./values.js";

export const TLS_MODES: readonly UpstreamTlsMode[] = ["disable", "require", "verify-ca", "verify-full"];

/** How the fields are spelled where the settings come from (`ca_file` in the config file, `ca` in the admin API). */
export interface TlsFieldNames {
  mode: string;
  ca: string;
  cert: string;
  privateKey: string;
}

export interface TlsProblem {
  field: string;
  message: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** What is wrong with settings as written; empty when they can be used. Never quotes a value. */
export function tlsProblems(tls: ConnectionTls, names: TlsFieldNames): TlsProblem[] {
  const problems: TlsProblem[] = [];
  const fail = (field: string, message: string): void => void problems.push({ field, message });
  if (tls.mode === "disable") {
    for (const key of ["ca", "cert", "privateKey"] as const) {
      if (tls[key] !== undefined) fail(names[key], "has no effect with mode disable");
    }
    return problems;
  }
  if (tls.mode === "require" && tls.ca !== undefined) {
    fail(names.ca, "mode require does not verify the server: use verify-ca or verify-full with a CA");
  }
  if (tls.mode === "verify-ca" && tls.ca === undefined) {
    fail(names.mode, `verify-ca needs ${names.ca}: against the public roots any certificate they issued would pass (use verify-full)`);
  }
  if (tls.ca !== undefined) {
    const problem = caProblem(tls.ca);
    if (problem !== undefined) fail(names.ca, problem);
  }
  if ((tls.cert === undefined) !== (tls.privateKey === undefined)) {
    if (tls.cert === undefined) fail(names.cert, `is required with ${names.privateKey}`);
    else fail(names.privateKey, `is required with ${names.cert}`);
  } else if (tls.cert !== undefined) {
    try {
      createSecureContext({ cert: tls.cert, key: tls.privateKey });
    } catch (error) {
      fail(names.cert, `cannot be used with ${names.privateKey} (${error instanceof Error ? error.message : String(error)}); both must be PEM, the key unencrypted`);
    }
  }
  return problems;
}

function caProblem(pem: string): string | undefined {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return "holds no PEM certificate";
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      return `certificate ${i + 1} of ${blocks.length} is not a valid X.509 certificate`;
    }
  }
  return undefined;
}

/** The mode in force for a postgres target (see the top of this file). */
export function effectiveTlsMode(host: string, hasPassword: boolean, tls: ConnectionTls | undefined): UpstreamTlsMode {
  if (tls?.mode !== undefined) return tls.mode;
  const configured = tls !== undefined && (tls.ca ?? tls.cert ?? tls.privateKey) !== undefined;
  return isLoopbackHost(host) && !hasPassword && !configured ? "disable" : "verify-full";
}

/** What the proxy connects with; `setting` names the key in messages. */
export function effectiveTls(host: string, hasPassword: boolean, tls: ConnectionTls | undefined, setting: string): UpstreamTls {
  return {
    mode: effectiveTlsMode(host, hasPassword, tls),
    setting,
    ...(tls?.ca !== undefined && { ca: tls.ca }),
    ...(tls?.cert !== undefined && { cert: tls.cert }),
    ...(tls?.privateKey !== undefined && { privateKey: tls.privateKey }),
  };
}

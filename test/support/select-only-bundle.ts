// A bundle file for tests that start the whole gateway from a config: connection `orders`,
// where identities with the claim role = bot may run SELECT; and such a config. The policy text
// itself, for other connections and roles, is `selectOnlyPolicy`.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { compileSources } from "../../compiler/index.js";
import { canonicalJson } from "../../runtime/bundle/canonical.js";
import type { GatewayConfig, StoreConfig } from "../../runtime/config/types.js";
import type { DevIssuer } from "../../runtime/identity/index.js";
import { PG } from "./pg-gateway.js";

/**
 * The select-only policy text: connection `connection`, where identities of `issuer` with the
 * claim role = `role` (group `<role>s`) may run SELECT.
 */
export function selectOnlyPolicy(issuer: string, connection = "orders", role = "bot"): string {
  return `
connection ${connection} { kind = postgres }
group ${role}s {
  issuer = "${issuer}"
  when   = claims.role == "${role}"
}
policy read {
  subjects    = [group.${role}s]
  connections = [connection.${connection}]
  allow when sql.command == select
}`;
}

/** writes `bundle.json` into `dir` for tokens of `issuer`; returns its path */
export async function writeSelectOnlyBundle(dir: string, issuer: string): Promise<string> {
  const compiled = compileSources([{ path: "t.hoop", text: selectOnlyPolicy(issuer) }]);
  if (compiled.bundle === undefined) throw new Error(compiled.diagnostics.map((d) => d.message).join("; "));
  const path = join(dir, "bundle.json");
  await writeFile(path, canonicalJson(compiled.bundle));
  return path;
}

/**
 * The config of a gateway on a free loopback port serving `orders` (the machine's PostgreSQL
 * database `database`) with the select-only bundle, written into `dir`, for tokens of `issuer`.
 */
export async function selectOnlyGatewayConfig(dir: string, issuer: DevIssuer, database: string, store: StoreConfig): Promise<GatewayConfig> {
  return {
    file: join(dir, "gateway.yaml"),
    listen: { postgres: { host: "127.0.0.1", port: 0 } },
    bundle: { location: { kind: "file", path: await writeSelectOnlyBundle(dir, issuer.issuer) }, keys: [], reloadIntervalMs: 60_000, allowUnsigned: true },
    issuers: [{ issuer: issuer.issuer, audience: [issuer.audience], jwks: { url: issuer.jwksUrl } }],
    connections: { orders: { name: "orders", target: { kind: "postgres", ...PG, database } } },
    store,
    auth: { allowCleartextOnLoopback: true },
    log: { level: "silent" },
  };
}

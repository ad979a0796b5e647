// Connection name → the PostgreSQL target behind it, credentials resolved by loadConfig.

import type { ConnectionConfig } from "../config/types.js";
import { effectiveTls } from "../config/upstream-tls.js";
import type { PgTarget } from "../postgres/context.js";

export function postgresTargets(connections: Record<string, ConnectionConfig>): Map<string, PgTarget> {
  const targets = new Map<string, PgTarget>();
  for (const [name, connection] of Object.entries(connections)) {
    const { target } = connection;
    if (target.kind !== "postgres") continue;
    targets.set(name, {
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      ...(connection.password !== undefined && { password: connection.password }),
      tls: effectiveTls(target.host, connection.password !== undefined, connection.tls, `connections.${name}.tls`),
      ...(connection.requireAuth !== undefined && { requireAuth: connection.requireAuth }),
    });
  }
  return targets;
}

// Runs the migrations a store has not seen yet, in order, each in its own transaction, under an
// advisory lock so replicas starting together migrate once. A store newer than this build is
// refused: an old gateway must not write into a schema it does not know.

import { MIGRATIONS, type Migration } from "./schema.js";
import type { Store } from "./types.js";

/** arbitrary constant: the advisory lock key every hoopgate migrator takes */
const MIGRATION_LOCK = 7_320_114_001;

export async function migrate(store: Store, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await store.query(`create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null)`);
  const applied: number[] = [];
  for (const migration of migrations) {
    const ran = await store.transaction(async (tx) => {
      await tx.query(`select pg_advisory_xact_lock($1)`, [MIGRATION_LOCK]);
      const seen = await tx.query<{ version: number }>(`select version from schema_migrations where version = $1`, [migration.version]);
      if (seen.length > 0) return false;
      await tx.exec(migration.sql);
      await tx.query(`insert into schema_migrations (version, name, applied_at) values ($1, $2, $3)`, [migration.version, migration.name, new Date()]);
      return true;
    });
    if (ran) applied.push(migration.version);
  }
  const [latest] = await store.query<{ version: number }>(`select max(version) as version from schema_migrations`);
  const known = migrations.at(-1)?.version ?? 0;
  if (latest !== undefined && Number(latest.version) > known) {
    throw new Error(`store ${store.location} has schema version ${latest.version}, newer than this gateway knows (${known}): upgrade the gateway`);
  }
  return applied;
}

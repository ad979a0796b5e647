// Resolves result-column provenance through the target's catalog: table OID + attnum →
// schema.table.column, and a relation (or a view, through its rewrite rules, recursively) → the
// tables it reads. One small pool per target, shared by its sessions; answers cached by OID.

import pg from "pg";
import type { PgTarget } from "./context.js";

/** how long catalog answers (and plans built on them) are trusted */
export const CATALOG_TTL_MS = 60_000;

export interface Relation {
  schema: string;
  name: string;
  /** pg_class.relkind: r table, v view, m materialized view, … */
  kind: string;
  columns: ReadonlyMap<number, string>;
  /** bare names of every relation this one reads (itself included; views expanded) */
  reads: readonly string[];
}

const RELATION_SQL = `
select n.nspname as schema, c.relname as name, c.relkind as kind,
       coalesce((select json_object_agg(a.attnum, a.attname) from pg_attribute a
                 where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '{}') as columns
  from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = $1`;

const READS_SQL = `
with recursive deps(oid) as (
  select unnest($1::oid[])
  union
  select d.refobjid from deps
    join pg_rewrite r on r.ev_class = deps.oid
    join pg_depend d on d.objid = r.oid and d.classid = 'pg_rewrite'::regclass
                    and d.refclassid = 'pg_class'::regclass and d.refobjid <> deps.oid
)
select distinct c.relname as name from deps join pg_class c on c.oid = deps.oid`;

const REGCLASS_SQL = `select coalesce(array_agg(to_regclass(n)::oid) filter (where to_regclass(n) is not null), '{}') as oids
  from unnest($1::text[]) n`;

interface Cached<T> {
  value: Promise<T>;
  at: number;
}

export class Catalog {
  private readonly pool: pg.Pool;
  private readonly relations = new Map<number, Cached<Relation | null>>();
  private readonly readsByNames = new Map<string, Cached<string[]>>();

  constructor(target: PgTarget) {
    this.pool = new pg.Pool({
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      password: target.password,
      max: 2,
      idleTimeoutMillis: 30_000,
      application_name: "hoopgate-catalog",
    });
    this.pool.on("error", () => undefined);
  }

  relation(oid: number): Promise<Relation | null> {
    return cached(this.relations, oid, async () => {
      const { rows } = await this.pool.query<{ schema: string; name: string; kind: string; columns: Record<string, string> }>(RELATION_SQL, [oid]);
      const row = rows[0];
      if (row === undefined) return null;
      const reads = row.kind === "v" || row.kind === "m" ? await this.readsOf([oid]) : [row.name];
      const columns = new Map(Object.entries(row.columns).map(([n, name]) => [Number(n), name]));
      return { schema: row.schema, name: row.name, kind: row.kind, columns, reads };
    });
  }

  /** bare names of every relation the named relations read, views expanded; names as the statement wrote them */
  readsOfNames(names: readonly string[]): Promise<string[]> {
    const key = [...names].sort().join("\n");
    return cached(this.readsByNames, key, async () => {
      const { rows } = await this.pool.query<{ oids: number[] }>(REGCLASS_SQL, [names]);
      return this.readsOf(rows[0]?.oids ?? []);
    });
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private async readsOf(oids: number[]): Promise<string[]> {
    if (oids.length === 0) return [];
    const { rows } = await this.pool.query<{ name: string }>(READS_SQL, [oids]);
    return rows.map((r) => r.name.toLowerCase());
  }
}

function cached<K, T>(cache: Map<K, Cached<T>>, key: K, load: () => Promise<T>): Promise<T> {
  const hit = cache.get(key);
  if (hit !== undefined && Date.now() - hit.at < CATALOG_TTL_MS) return hit.value;
  const value = load();
  cache.set(key, { value, at: Date.now() });
  value.catch(() => cache.delete(key));
  return value;
}

// Resolves result-column provenance through the target's catalog: table OID + attnum →
// schema.table.column, a relation (or a view, through its rewrite rules, recursively) → the
// tables it reads and whether it calls opaque code, and a called function's name → built in or
// opaque. Opaque code is a function or operator that is not built in, or a builtin that runs a
// query given as text: what it reads cannot be known. One small pool per target, shared by its
// sessions; answers cached by OID or name.

import pg from "pg";
import type { PgTarget } from "./context.js";

/** how long catalog answers (and plans built on them) are trusted */
export const CATALOG_TTL_MS = 60_000;

/** answers one cache keeps; names come from clients, so past it the cache starts over */
const MAX_CACHED = 10_000;

export interface Relation {
  schema: string;
  name: string;
  /** pg_class.relkind: r table, v view, m materialized view, … */
  kind: string;
  columns: ReadonlyMap<number, string>;
  /** bare names of every relation this one reads (itself included; views expanded) */
  reads: readonly string[];
  /** a view whose definition, or that of a view it reads, calls opaque code */
  callsOpaqueCode: boolean;
}

/** What a set of relations reads, views expanded. */
export interface Reads {
  /** bare names of the relations */
  names: readonly string[];
  /** a view among them calls opaque code */
  callsOpaqueCode: boolean;
}

/**
 * PostgreSQL's FirstNormalObjectId: objects made by initdb (pg_catalog, information_schema)
 * have smaller OIDs, anything created later (extensions, users' functions) larger ones — even
 * one a superuser put in pg_catalog.
 */
const FIRST_NORMAL_OID = 16384;

/**
 * Built-in functions that run a query given as text, or read a relation, cursor, schema or
 * database named by a value: what they read is nowhere in the statement's facts.
 */
const RUNS_QUERIES = [
  "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
  "table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema",
  "cursor_to_xml", "cursor_to_xmlschema",
  "schema_to_xml", "schema_to_xmlschema", "schema_to_xml_and_xmlschema",
  "database_to_xml", "database_to_xmlschema", "database_to_xml_and_xmlschema",
  "ts_stat", "ts_rewrite",
];

const RUNS_QUERIES_SQL = RUNS_QUERIES.map((name) => `'${name}'`).join(", ");

/** a pg_proc row `p` (with its namespace `n`) that is opaque */
const OPAQUE_PROC = `(p.oid >= ${FIRST_NORMAL_OID} or n.nspname not in ('pg_catalog', 'information_schema') or p.proname in (${RUNS_QUERIES_SQL}))`;

const RELATION_SQL = `
select n.nspname as schema, c.relname as name, c.relkind as kind,
       coalesce((select json_object_agg(a.attnum, a.attname) from pg_attribute a
                 where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '{}') as columns
  from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = $1`;

// A rewrite rule depends on the functions its query calls (pg_proc) and on its operators
// (pg_operator, whose oprcode is the function that runs) — except on pinned objects, which
// PostgreSQL does not record: a builtin that runs queries is found by its OID in the rule's tree.
const READS_SQL = `
with recursive deps(oid) as (
  select unnest($1::oid[])
  union
  select d.refobjid from deps
    join pg_rewrite r on r.ev_class = deps.oid
    join pg_depend d on d.objid = r.oid and d.classid = 'pg_rewrite'::regclass
                    and d.refclassid = 'pg_class'::regclass and d.refobjid <> deps.oid
),
rules as (select r.oid, r.ev_action::text as tree from deps join pg_rewrite r on r.ev_class = deps.oid)
select coalesce((select array_agg(distinct c.relname::text) from deps join pg_class c on c.oid = deps.oid), '{}') as names,
       exists (select 1 from rules
                 join pg_depend d on d.objid = rules.oid and d.classid = 'pg_rewrite'::regclass
                 left join pg_operator o on d.refclassid = 'pg_operator'::regclass and o.oid = d.refobjid
                 join pg_proc p on p.oid = case when d.refclassid = 'pg_proc'::regclass then d.refobjid else o.oprcode::oid end
                 join pg_namespace n on n.oid = p.pronamespace
                where d.refclassid in ('pg_proc'::regclass, 'pg_operator'::regclass) and ${OPAQUE_PROC})
       or exists (select 1 from rules join pg_proc p on p.proname in (${RUNS_QUERIES_SQL})
                   where strpos(rules.tree, ':funcid ' || p.oid || ' ') > 0) as calls_opaque_code`;

// Every function of that name in any schema: an unqualified call may resolve to any of them
// through search_path, so a user's public.lower(integer) makes every unqualified lower(…) opaque
// (argument types are not in the facts).
const FUNCTION_SQL = `
select count(*)::int as found, count(*) filter (where ${OPAQUE_PROC})::int as opaque
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.proname = $1`;

type FunctionKind = "builtin" | "opaque" | "unknown";

const REGCLASS_SQL = `select coalesce(array_agg(to_regclass(n)::oid) filter (where to_regclass(n) is not null), '{}') as oids
  from unnest($1::text[]) n`;

interface Cached<T> {
  value: Promise<T>;
  at: number;
}

export class Catalog {
  private readonly pool: pg.Pool;
  private readonly relations = new Map<number, Cached<Relation | null>>();
  private readonly readsByNames = new Map<string, Cached<Reads>>();
  private readonly functions = new Map<string, Cached<FunctionKind>>();

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
      const reads = row.kind === "v" || row.kind === "m" ? await this.readsOf([oid]) : { names: [row.name], callsOpaqueCode: false };
      const columns = new Map(Object.entries(row.columns).map(([n, name]) => [Number(n), name]));
      return { schema: row.schema, name: row.name, kind: row.kind, columns, reads: reads.names, callsOpaqueCode: reads.callsOpaqueCode };
    });
  }

  /** what the named relations read, views expanded; names as the statement wrote them */
  readsOfNames(names: readonly string[]): Promise<Reads> {
    const key = [...names].sort().join("\n");
    return cached(this.readsByNames, key, async () => {
      const { rows } = await this.pool.query<{ oids: number[] }>(REGCLASS_SQL, [names]);
      return this.readsOf(rows[0]?.oids ?? []);
    });
  }

  /**
   * Whether a statement calling these functions (sql.functions: each call's bare name, and
   * `schema.name` for a qualified call) may run opaque code. A name is built in only when every
   * function of that name, in any schema, is; a name the catalog does not know is opaque.
   */
  async callsOpaqueCode(names: readonly string[]): Promise<boolean> {
    const kinds = await Promise.all(names.map((name) => this.functionKind(name)));
    return kinds.some((kind, i) => kind === "opaque" || (kind === "unknown" && !isQualifiedForm(names[i]!, names)));
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private functionKind(name: string): Promise<FunctionKind> {
    return cached(this.functions, name, async () => {
      const { rows } = await this.pool.query<{ found: number; opaque: number }>(FUNCTION_SQL, [name]);
      const row = rows[0];
      if (row === undefined || row.found === 0) return "unknown";
      return row.opaque > 0 ? "opaque" : "builtin";
    });
  }

  private async readsOf(oids: number[]): Promise<Reads> {
    if (oids.length === 0) return { names: [], callsOpaqueCode: false };
    const { rows } = await this.pool.query<{ names: string[]; calls_opaque_code: boolean }>(READS_SQL, [oids]);
    const row = rows[0];
    // no answer is no proof: fail closed
    if (row === undefined) return { names: [], callsOpaqueCode: true };
    return { names: row.names.map((n) => n.toLowerCase()), callsOpaqueCode: row.calls_opaque_code };
  }
}

/**
 * `s.f` next to `f` in the facts is the qualified form of a call whose bare name is looked up
 * on its own (every `f` in every schema), so `pg_catalog.lower` is not "unknown". A name with a
 * dot and no such partner is a quoted name (`"a.b"()`) that no function has (yet): not built in.
 */
function isQualifiedForm(name: string, names: readonly string[]): boolean {
  for (let dot = name.indexOf("."); dot >= 0; dot = name.indexOf(".", dot + 1)) {
    if (names.includes(name.slice(dot + 1))) return true;
  }
  return false;
}

function cached<K, T>(cache: Map<K, Cached<T>>, key: K, load: () => Promise<T>): Promise<T> {
  const hit = cache.get(key);
  if (hit !== undefined && Date.now() - hit.at < CATALOG_TTL_MS) return hit.value;
  const value = load();
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(key, { value, at: Date.now() });
  value.catch(() => cache.delete(key));
  return value;
}

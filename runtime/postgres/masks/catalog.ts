// Resolves result-column provenance through the target's catalog: table OID + attnum →
// schema.table.column and the tables it inherits from, a relation (or a view, through its
// rewrite rules, recursively; a table, with those it inherits from or is inherited by) → the tables it
// reads and whether it calls opaque code, and the name of a function, operator or cast target
// type a statement uses → built in or opaque. Opaque code is a function, operator or cast that
// is not built in, or a builtin that runs a query given as text or reads data from outside the
// tables (a file, a large object, the WAL): what it reads cannot be known. One small pool per
// target, shared by its sessions; answers cached by OID or name.

import pg from "pg";
import type { PgTarget } from "../context.js";
import { guardedClient } from "../upstream/guarded-pg-client.js";
import { upstreamTlsOptions } from "../upstream/upstream-socket.js";

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
  /**
   * the tables it inherits from and those inheriting from it (partitions, inheritance children):
   * their rows are one table's, so a column mask on any of them covers the same column of all
   */
  family: readonly { schema: string; name: string }[];
  /** bare names of every relation this one reads (itself included; views expanded) */
  reads: readonly string[];
  /** a view whose definition, or that of a view it reads, calls opaque code or reads planner statistics */
  callsOpaqueCode: boolean;
}

/** What a set of relations reads, views expanded. */
export interface Reads {
  /** bare names of the relations, views expanded, with the tables they inherit from */
  names: readonly string[];
  /**
   * a name the catalog cannot find: a temporary relation (the catalog has its own connection), one
   * made in the client's open transaction, or by the statement itself
   */
  unresolved: boolean;
  /**
   * a view among them calls opaque code or reads planner statistics, or (asked for a statement)
   * a column among them has a type an opaque cast converts from
   */
  callsOpaqueCode: boolean;
}

/** The names by which a statement may run code: sql.functions, its operators and cast target types, and its attribute names (`t.f` runs `f(t)`). */
export interface CodeNames {
  functions: readonly string[];
  operators: readonly string[];
  casts: readonly string[];
  attributes: readonly string[];
}

/**
 * PostgreSQL's FirstNormalObjectId: objects made by initdb (pg_catalog, information_schema)
 * have smaller OIDs, anything created later (extensions, users' functions) larger ones — even
 * one a superuser put in pg_catalog.
 */
const FIRST_NORMAL_OID = 16384;

/**
 * Built-in functions whose result comes from somewhere the statement's facts do not name: a
 * query given as text; a relation, cursor, schema or database named by a value; a server file
 * (a table's own data files among them), a large object, the WAL's decoded changes.
 */
const OPAQUE_BUILTINS = [
  "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
  "table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema",
  "cursor_to_xml", "cursor_to_xmlschema",
  "schema_to_xml", "schema_to_xmlschema", "schema_to_xml_and_xmlschema",
  "database_to_xml", "database_to_xmlschema", "database_to_xml_and_xmlschema",
  "ts_stat", "ts_rewrite",
  "pg_read_file", "pg_read_binary_file", "lo_get", "loread",
  "pg_logical_slot_get_changes", "pg_logical_slot_peek_changes", "pg_logical_slot_get_binary_changes", "pg_logical_slot_peek_binary_changes",
];

const OPAQUE_BUILTINS_SQL = OPAQUE_BUILTINS.map((name) => `'${name}'`).join(", ");

/**
 * Relations holding sample values of any table's columns (most_common_vals, histogram_bounds,
 * extended statistics' MCV lists): what they show cannot be masked by column. Bare names, as
 * the facts list every relation.
 */
export const STATISTICS_RELATIONS: ReadonlySet<string> = new Set(["pg_statistic", "pg_statistic_ext_data", "pg_stats", "pg_stats_ext", "pg_stats_ext_exprs"]);

/** a catalog row `row` (with its namespace `n`) that initdb did not make */
const notBuiltIn = (row: string, n: string): string => `(${row}.oid >= ${FIRST_NORMAL_OID} or ${n}.nspname not in ('pg_catalog', 'information_schema'))`;

/** a pg_proc row `p` (with its namespace `n`) that is opaque */
const OPAQUE_PROC = `(${notBuiltIn("p", "n")} or p.proname in (${OPAQUE_BUILTINS_SQL}))`;

const RELATION_SQL = `
select n.nspname as schema, c.relname as name, c.relkind as kind,
       coalesce((select json_object_agg(a.attnum, a.attname) from pg_attribute a
                 where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '{}') as columns,
       coalesce((with recursive up(oid) as (
                   select i.inhparent from pg_inherits i where i.inhrelid = c.oid
                   union
                   select i.inhparent from up join pg_inherits i on i.inhrelid = up.oid),
                 down(oid) as (
                   select i.inhrelid from pg_inherits i where i.inhparent = c.oid
                   union
                   select i.inhrelid from down join pg_inherits i on i.inhparent = down.oid)
                 select json_agg(json_build_object('schema', fn.nspname, 'name', fc.relname))
                   from (select oid from up union select oid from down) f
                   join pg_class fc on fc.oid = f.oid join pg_namespace fn on fn.oid = fc.relnamespace), '[]') as family
  from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = $1`;

// The relations read: the named ones, what a view's rewrite rules read, and the tables a table
// inherits from or is inherited by (one table's rows: a mask on one covers the others').
// A rewrite rule depends on the functions its query calls (pg_proc) and on its operators
// (pg_operator, whose oprcode is the function that runs) — except on pinned objects, which
// PostgreSQL does not record: a builtin that runs queries is found by its OID in the rule's tree.
// The statistics relations are found the same two ways: pg_stats by dependency, pg_statistic
// (pinned) in the tree. For a statement ($2), a cast from the type of a column it can read (or of
// a row, an array's element, a domain's base) runs code the text may not show: `x::text` names
// only text, and an implicit cast is not written at all.
const READS_SQL = `
with recursive deps(oid) as (
  select unnest($1::oid[])
  union
  select x.oid from deps cross join lateral (
    select d.refobjid as oid from pg_rewrite r
      join pg_depend d on d.objid = r.oid and d.classid = 'pg_rewrite'::regclass
                      and d.refclassid = 'pg_class'::regclass and d.refobjid <> deps.oid
     where r.ev_class = deps.oid
    union all
    select i.inhparent from pg_inherits i where i.inhrelid = deps.oid
    union all
    select i.inhrelid from pg_inherits i where i.inhparent = deps.oid) x
),
rules as (select r.oid, r.ev_action::text as tree from deps join pg_rewrite r on r.ev_class = deps.oid)
select coalesce((select array_agg(distinct c.relname::text) from deps join pg_class c on c.oid = deps.oid), '{}') as names,
       exists (select 1 from rules
                 join pg_depend d on d.objid = rules.oid and d.classid = 'pg_rewrite'::regclass
                 left join pg_operator o on d.refclassid = 'pg_operator'::regclass and o.oid = d.refobjid
                 join pg_proc p on p.oid = case when d.refclassid = 'pg_proc'::regclass then d.refobjid else o.oprcode::oid end
                 join pg_namespace n on n.oid = p.pronamespace
                where d.refclassid in ('pg_proc'::regclass, 'pg_operator'::regclass) and ${OPAQUE_PROC})
       or exists (select 1 from rules join pg_proc p on p.proname in (${OPAQUE_BUILTINS_SQL})
                   where strpos(rules.tree, ':funcid ' || p.oid || ' ') > 0)
       or exists (select 1 from unnest(array[${[...STATISTICS_RELATIONS].map((n) => `to_regclass('pg_catalog.${n}')::oid`).join(", ")}]) s(oid)
                   where s.oid in (select oid from deps) or exists (select 1 from rules where strpos(rules.tree, ':relid ' || s.oid || ' ') > 0))
       or $2 and exists (select 1 from deps
                           join pg_class c on c.oid = deps.oid
                           join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                           join pg_type t on t.oid in (a.atttypid, c.reltype)
                           join pg_cast k on k.castsource in (t.oid, t.typelem, t.typbasetype)
                           join pg_proc p on p.oid = k.castfunc
                           join pg_namespace n on n.oid = p.pronamespace
                          where ${OPAQUE_PROC}) as calls_opaque_code`;

// Every function (operator, type) of that name in any schema: an unqualified call may resolve to
// any of them through search_path, so a user's public.lower(integer) makes every unqualified
// lower(…) opaque (argument types are not in the facts). A cast's target type is opaque when it
// is not built in; a cast to a builtin type from a user's type needs a value of that type, which
// comes from a cast to it (listed) or a column (readsOfNames judges the casts from its type).
const CODE_SQL: Readonly<Record<keyof CodeNames, string>> = {
  functions: `
select count(*)::int as found, count(*) filter (where ${OPAQUE_PROC})::int as opaque
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.proname = $1`,
  operators: `
select count(*)::int as found, count(*) filter (where ${notBuiltIn("o", "n")})::int as opaque
  from pg_operator o join pg_namespace n on n.oid = o.oprnamespace where o.oprname = $1`,
  casts: `
select count(*)::int as found, count(*) filter (where ${notBuiltIn("t", "n")})::int as opaque
  from pg_type t join pg_namespace n on n.oid = t.typnamespace where t.typname = $1`,
  // a one-argument function of that name that is not built in; the name is most often a column's
  attributes: `
select count(*)::int as found, count(*) filter (where ${OPAQUE_PROC} and p.pronargs = 1)::int as opaque
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.proname = $1`,
};

type CodeKind = "builtin" | "opaque" | "unknown";

const REGCLASS_SQL = "select n as name, to_regclass(n)::oid as oid from unnest($1::text[]) n";

interface Cached<T> {
  value: Promise<T>;
  at: number;
}

export class Catalog {
  private readonly pool: pg.Pool;
  private readonly relations = new Map<number, Cached<Relation | null>>();
  private readonly readsByNames = new Map<string, Cached<Reads>>();
  private readonly code: Readonly<Record<keyof CodeNames, Map<string, Cached<CodeKind>>>> = {
    functions: new Map(),
    operators: new Map(),
    casts: new Map(),
    attributes: new Map(),
  };

  constructor(target: PgTarget) {
    this.pool = new pg.Pool({
      // it carries the target's password: the same login rules as the sessions' connections
      Client: guardedClient(target),
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      password: target.password,
      max: 2,
      idleTimeoutMillis: 30_000,
      application_name: "hoopgate-catalog",
      // the catalog's own connections carry the target's password: the same TLS as the sessions'
      ssl: target.tls === undefined || target.tls.mode === "disable" ? false : upstreamTlsOptions(target.host, target.tls),
    });
    this.pool.on("error", () => undefined);
  }

  relation(oid: number): Promise<Relation | null> {
    return cached(this.relations, oid, async () => {
      type Row = { schema: string; name: string; kind: string; columns: Record<string, string>; family: Relation["family"] };
      const { rows } = await this.pool.query<Row>(RELATION_SQL, [oid]);
      const row = rows[0];
      if (row === undefined) return null;
      const reads = row.kind === "v" || row.kind === "m" ? await this.readsOf([oid], false) : { names: [row.name], unresolved: false, callsOpaqueCode: false };
      const columns = new Map(Object.entries(row.columns).map(([n, name]) => [Number(n), name]));
      return { schema: row.schema, name: row.name, kind: row.kind, columns, family: row.family, reads: reads.names, callsOpaqueCode: reads.callsOpaqueCode };
    });
  }

  /**
   * What a statement naming these relations reads, views expanded; names as the facts give them
   * (bare, and `schema.name`, as the parser folded them: quoted here, so `"PeopleView"` is found).
   */
  readsOfNames(names: readonly string[]): Promise<Reads> {
    const key = [...names].sort().join("\n");
    return cached(this.readsByNames, key, async () => {
      const candidates = names.flatMap(regclassCandidates);
      const { rows } = await this.pool.query<{ name: string; oid: number | null }>(REGCLASS_SQL, [candidates.map((c) => c.text)]);
      const found = new Set<string>();
      const oids = new Set<number>();
      rows.forEach((row, i) => {
        if (row.oid === null) return;
        found.add(candidates[i]!.name);
        oids.add(row.oid);
      });
      const reads = await this.readsOf([...oids], true);
      return { ...reads, unresolved: names.some((name) => !found.has(name) && !names.some((other) => found.has(other) && sameRelation(name, other))) };
    });
  }

  /**
   * Whether a statement using these names (each bare, and `schema.name` when qualified) may run
   * opaque code. A name is built in only when every function (operator, type) of that name, in
   * any schema, is; a name the catalog does not know is opaque.
   */
  async runsOpaqueCode(names: CodeNames): Promise<boolean> {
    const kinds = Object.keys(this.code) as (keyof CodeNames)[];
    return (await Promise.all(kinds.map((kind) => this.anyOpaque(kind, names[kind])))).some(Boolean);
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private async anyOpaque(kind: keyof CodeNames, names: readonly string[]): Promise<boolean> {
    const kinds = await Promise.all(names.map((name) => this.codeKind(kind, name)));
    return kinds.some((k, i) => k === "opaque" || (k === "unknown" && !isQualifiedForm(names[i]!, names)));
  }

  private codeKind(kind: keyof CodeNames, name: string): Promise<CodeKind> {
    return cached(this.code[kind], name, async () => {
      const { rows } = await this.pool.query<{ found: number; opaque: number }>(CODE_SQL[kind], [name]);
      const row = rows[0];
      if (row !== undefined && row.opaque > 0) return "opaque";
      // most attribute names are columns', not functions': no function of that name is no call
      if (kind === "attributes") return "builtin";
      return row === undefined || row.found === 0 ? "unknown" : "builtin";
    });
  }

  /** forStatement: also judge the casts from the relations' column types (written `x::text`, or applied unasked) */
  private async readsOf(oids: number[], forStatement: boolean): Promise<Reads> {
    if (oids.length === 0) return { names: [], unresolved: false, callsOpaqueCode: false };
    const { rows } = await this.pool.query<{ names: string[]; calls_opaque_code: boolean }>(READS_SQL, [oids, forStatement]);
    const row = rows[0];
    // no answer is no proof: fail closed
    if (row === undefined) return { names: [], unresolved: true, callsOpaqueCode: true };
    return { names: row.names.map((n) => n.toLowerCase()), unresolved: false, callsOpaqueCode: row.calls_opaque_code };
  }
}

/**
 * The regclass texts a fact's relation name may stand for, each part quoted as the parser left
 * it: `PeopleView` → `"PeopleView"`; `HR.staff` → `"HR"."staff"` (a name holding dots gives one
 * text per place it may be cut).
 */
function regclassCandidates(name: string): { name: string; text: string }[] {
  const out = [{ name, text: quoteIdent(name) }];
  for (let dot = name.indexOf("."); dot >= 0; dot = name.indexOf(".", dot + 1)) {
    // a zero-length quoted identifier is a syntax error: no relation is named so
    if (dot > 0 && dot < name.length - 1) out.push({ name, text: `${quoteIdent(name.slice(0, dot))}.${quoteIdent(name.slice(dot + 1))}` });
  }
  return out;
}

function quoteIdent(part: string): string {
  return `"${part.replaceAll('"', '""')}"`;
}

/** the bare and the qualified name of one relation, as the facts list both */
function sameRelation(a: string, b: string): boolean {
  return a.endsWith(`.${b}`) || b.endsWith(`.${a}`);
}

/**
 * `s.f` next to `f` in the facts is the qualified form of a call whose bare name is looked up
 * on its own (every `f` in every schema), so `pg_catalog.lower` is not "unknown". A name with a
 * dot and no such partner is a quoted name (`"a.b"()`) that nothing has (yet): not built in.
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

// How relation and function names become facts: always the bare name, plus `schema.name`.
// The parser has already folded unquoted identifiers to lower case and kept quoted ones as written.

import type { RangeVar } from "libpg-query";

const DEFAULT_SCHEMA = "public";
const CATALOG_SCHEMA = "pg_catalog";
/** every relation in pg_catalog has a name starting with this */
const CATALOG_PREFIX = "pg_";

/**
 * `users` and `public.users` (the schema written, else `public`). An unqualified `pg_…` name is
 * also `pg_catalog.pg_…`: pg_catalog is searched before public unless search_path puts it later,
 * so `pg_authid` is the catalog's. Other unqualified names get no `pg_catalog.` (no catalog
 * relation has them, and it would break `within` allow-lists).
 */
export function relationNames(schema: string | undefined, name: string): string[] {
  if (schema === undefined && name.startsWith(CATALOG_PREFIX)) return [name, `${DEFAULT_SCHEMA}.${name}`, `${CATALOG_SCHEMA}.${name}`];
  return [name, `${schema ?? DEFAULT_SCHEMA}.${name}`];
}

export function rangeVarNames(rv: RangeVar): string[] {
  return rv.relname === undefined ? [] : relationNames(rv.schemaname, rv.relname);
}

/** A relation named by an object list (`DROP TABLE a.b`): [catalog.]schema.name or name. */
export function objectNameRelation(parts: readonly string[]): string[] {
  const name = parts[parts.length - 1];
  if (name === undefined) return [];
  return relationNames(parts.length >= 2 ? parts[parts.length - 2] : undefined, name);
}

/**
 * A called function (an operator, a type): the bare name, plus `schema.name` when the call was
 * qualified. Unqualified calls get no schema: it depends on search_path (pg_catalog comes first
 * unless placed later explicitly), so policies should name the bare function.
 */
export function qualifiedNames(parts: readonly string[]): string[] {
  const name = parts[parts.length - 1];
  if (name === undefined) return [];
  const schema = parts.length >= 2 ? parts[parts.length - 2] : undefined;
  return schema === undefined ? [name] : [name, `${schema}.${name}`];
}

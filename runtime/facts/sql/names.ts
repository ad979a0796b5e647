// How relation and function names become facts: always the bare name, plus `schema.name`.
// The parser has already folded unquoted identifiers to lower case and kept quoted ones as written.

import type { RangeVar } from "libpg-query";

const DEFAULT_SCHEMA = "public";

/** `users` and `public.users` (the schema written, else `public`). */
export function relationNames(schema: string | undefined, name: string): string[] {
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

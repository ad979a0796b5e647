// TOAST relations hold a table's large values under another name: `pg_toast.pg_toast_<oid>`
// (`pg_toast_temp_<n>.…` for temporary tables) has a chunk per slice of every value too large to
// keep inline, and pglz leaves a value's start readable. `SELECT chunk_data FROM
// pg_toast.pg_toast_36134` reads the card numbers of a table denied by name, and a masked
// column's values in clear: rules and masks name the table, never its TOAST relation. So a
// statement naming a relation in one of those schemas is refused, whatever the policy. Only a
// qualified name can reach one: search_path never holds pg_toast through the gateway (SET
// search_path is refused beyond public, pg_catalog, pg_temp and "$user"; a role cannot be named
// pg_toast, `pg_` being reserved; and pg_temp is the session's own pg_temp_<n>, not its TOAST
// schema). No user schema can have the prefix either: `pg_` names are reserved for the system.

import type { RangeVar } from "libpg-query";

const TOAST_SCHEMA_PREFIX = "pg_toast";

/** Why naming this relation is refused, or undefined when it is not in a TOAST schema. */
export function toastRelationProblem(relation: RangeVar): string | undefined {
  const schema = relation.schemaname;
  if (schema === undefined || !schema.startsWith(TOAST_SCHEMA_PREFIX)) return undefined;
  return `${schema}.${relation.relname ?? ""} is not allowed through the gateway: a TOAST relation holds another table's large values under a name the rules and masks on that table do not see`;
}

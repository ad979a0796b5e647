// Facts of one parsed statement.

import type { Node } from "libpg-query";
import type { SqlCommand } from "../../schema/attributes.js";
import type { SqlStatementFacts } from "../types.js";
import { kindOf, nodeAs } from "./ast.js";
import { collect, type Write } from "./collect.js";
import { commandOf } from "./command.js";
import { copyKind } from "./copy.js";
import { storesOf } from "./stores.js";
import { writesAreRestricted } from "./where.js";

const WRITE_RANK: Readonly<Record<Write["kind"], number>> = { insert: 1, update: 2, delete: 3, merge: 4 };

/**
 * Statements after which a relation name may stand for something else, or something the
 * proxy's catalog (its own connection) cannot see until it commits: a view (temporary ones
 * shadow tables of the same name), a schema (`$user` comes first in search_path), a rule (an ON
 * SELECT rule turns a table into a view), a rename, a move to another schema.
 */
const REBINDING: ReadonlySet<string> = new Set(["ViewStmt", "CreateSchemaStmt", "RuleStmt", "RenameStmt", "AlterObjectSchemaStmt"]);

/**
 * Statements that create or change code the server runs later, where a statement's text does not
 * show it: a function or procedure, an aggregate, operator or type (DefineStmt), a cast, a
 * trigger, a domain's CHECK, a row-security policy's expressions, a language, a transform, a
 * conversion, an operator class or family, an access method, a foreign-data wrapper.
 */
const DEFINING_CODE: ReadonlySet<string> = new Set([
  "CreateFunctionStmt", "AlterFunctionStmt", "DefineStmt", "CreateCastStmt", "CreateTrigStmt", "CreateEventTrigStmt",
  "CreateDomainStmt", "AlterDomainStmt", "CreatePolicyStmt", "AlterPolicyStmt", "CreatePLangStmt", "CreateTransformStmt",
  "CreateConversionStmt", "CreateOpClassStmt", "CreateOpFamilyStmt", "AlterOpFamilyStmt", "CreateAmStmt", "CreateFdwStmt",
  "AlterFdwStmt", "CreateRangeStmt", "AlterTypeStmt", "AlterOperatorStmt",
]);

/**
 * The command is the outer statement's, except that a write the statement runs cannot hide
 * behind it: when a data-modifying CTE (or the query of COPY, CREATE TABLE AS, SELECT INTO,
 * PREPARE, DECLARE) writes, the most dangerous write is reported (merge > delete > update >
 * insert) if it ranks above the outer command. `WITH d AS (DELETE FROM users RETURNING *)
 * SELECT * FROM d` is a `delete`; `INSERT … ON CONFLICT DO UPDATE` is an `update`. `has_where`
 * is false when any UPDATE/DELETE/MERGE (or upsert) it runs is unrestricted.
 */
export function statementFacts(stmt: Node, text: string): SqlStatementFacts {
  const found = collect(stmt);
  const outer = commandOf(stmt);
  const command = strongest(outer, found.writes);
  const copy = nodeAs(stmt, "CopyStmt");
  // EXECUTE, FETCH or MOVE: the rows come from a statement prepared or a cursor declared earlier
  const stored = found.executes.size > 0 || found.fetches.size > 0;
  const indirect = found.operators.size > 0 || found.casts.size > 0 || found.attributes.size > 0 || stored;
  const stores = storesOf(found.store, found.hasCte);
  return {
    command,
    tables: [...found.tables].sort(),
    functions: [...found.functions].sort(),
    hasWhere: writesAreRestricted(found.writes, stmt),
    ...(copy ? { copy: copyKind(copy) } : {}),
    ...(indirect
      ? { indirect: { operators: [...found.operators].sort(), casts: [...found.casts].sort(), attributes: [...found.attributes].sort(), stored } }
      : {}),
    ...(stores ? { stores } : {}),
    ...(REBINDING.has(kindOf(stmt) ?? "") ? { rebinds: true as const } : {}),
    ...(DEFINING_CODE.has(kindOf(stmt) ?? "") ? { definesCode: true as const } : {}),
    ...(found.executes.size > 0 ? { executes: [...found.executes].sort() } : {}),
    ...(found.fetches.size > 0 ? { fetches: [...found.fetches].sort() } : {}),
    ...(found.statementNames.size > 0 || found.portalNames.size > 0
      ? { sessionNames: { statements: [...found.statementNames].sort(), portals: [...found.portalNames].sort() } }
      : {}),
    text,
  };
}

function strongest(outer: SqlCommand, writes: readonly Write[]): SqlCommand {
  let best = outer;
  let rank = Object.hasOwn(WRITE_RANK, outer) ? WRITE_RANK[outer as Write["kind"]] : 0;
  for (const w of writes) {
    if (WRITE_RANK[w.kind] > rank) {
      best = w.kind;
      rank = WRITE_RANK[w.kind];
    }
  }
  return best;
}

// What column masks cannot follow (docs/masking.md), refused in a session that has them, before
// the statement runs: planner statistics (sample values of every column), COPY to or from a
// server file or program (it reads or writes anything), statements after which a name may stand
// for something the catalog does not see (views, schemas, rules, renames), schema changes to a
// table with masked columns, and values stored where a later statement reads them unmasked
// (stored copies: rows written from a query, CREATE TABLE AS, set_config, large objects…). The
// gate judges the names here; what only the catalog can tell — a view or a table's partitions
// and parents among them, code that is not built in — ColumnMasks.catalogRefusal answers before
// the statement runs.

import type { StatementDecision } from "../../engine/types.js";
import { STATISTICS_RELATIONS } from "./catalog.js";
import { bareName } from "../statement-names.js";

/** bare table name → its masked columns (lowercased) */
export type MaskedColumns = ReadonlyMap<string, ReadonlySet<string>>;

/** The session's column masks (`table.column`, `schema.table.column`) by bare table name. */
export function maskedColumnsByTable(keys: Iterable<string>): MaskedColumns {
  const tables = new Map<string, Set<string>>();
  for (const key of keys) {
    const parts = key.toLowerCase().split(".");
    if (parts.length < 2) continue;
    const table = parts[parts.length - 2]!;
    const columns = tables.get(table) ?? new Set<string>();
    columns.add(parts[parts.length - 1]!);
    tables.set(table, columns);
  }
  return tables;
}

/** Commands that change a table's definition, its dependents or who may read it. */
export const SCHEMA_CHANGES: ReadonlySet<string> = new Set(["alter", "create", "grant"]);

const SERVER_COPY: ReadonlySet<string> = new Set(["to_file", "to_program", "from_file", "from_program"]);

export type MaskVerdict =
  | { kind: "refuse"; reason: string }
  /** only the catalog can tell: what it stores comes from relations or code, or it changes a relation's schema */
  | { kind: "ask" }
  | { kind: "none" };

/** What the statements' names say. */
export function refusalByName(statements: readonly StatementDecision[], masked: MaskedColumns): MaskVerdict {
  let ask = false;
  for (const statement of statements) {
    const { command, tables, copy, stores, functions, indirect } = statement;
    const statistics = tables.find((t) => STATISTICS_RELATIONS.has(t));
    if (statistics !== undefined) {
      return refuse(`"${statistics}" holds sample values of masked columns (most_common_vals, histogram_bounds): not readable in a session with column masks`);
    }
    if (copy !== undefined && SERVER_COPY.has(copy)) {
      return refuse("COPY to or from a server file or program reads or writes what no mask covers: not allowed in a session with column masks");
    }
    if (statement.rebinds === true) {
      return refuse("after a view, schema or rule is created, or an object renamed or moved, a name may read something the gateway's catalog does not see: not allowed in a session with column masks");
    }
    if (statement.definesCode === true) {
      return refuse("creating or changing code the server runs later (a function, aggregate, operator, cast, trigger, domain or policy) is not allowed in a session with column masks: the gateway cannot see what it does with masked data");
    }
    // what it stores first: CREATE TABLE … AS names the masked tables it copies
    if (stores !== undefined) {
      const source = stores.from.find((name) => masked.has(bareName(name)));
      if (source !== undefined) return refuse(storedCopyReason(`"${source}", which has masked columns`));
      for (const target of stores.targets) {
        const table = bareName(target.names[0]!);
        const columns = masked.get(table);
        const column = columns === undefined ? undefined : target.columns.find((c) => c === "*" || columns.has(c));
        if (column === "*") return refuse(storedCopyReason(`a whole row of "${target.names[0]}", which has masked columns`));
        if (column !== undefined) return refuse(storedCopyReason(`the masked column ${table}.${column}`));
      }
      ask ||= stores.from.length > 0 || stores.targets.length > 0 || functions.length > 0 || indirect !== undefined;
    }
    if (SCHEMA_CHANGES.has(command)) {
      const table = tables.find((t) => masked.has(bareName(t)));
      if (table !== undefined) return refuse(schemaChangeReason(table, command));
      ask ||= tables.length > 0;
    }
  }
  return ask ? ASK : NONE;
}

const ASK: MaskVerdict = { kind: "ask" };
const NONE: MaskVerdict = { kind: "none" };

/** The refusal's reason: stored values may come from `source`. */
export function storedCopyReason(source: string): string {
  return `it stores values that may come from ${source}, and a mask does not follow a copy ` +
    "(rows written, CREATE TABLE AS, set_config, large objects, files): read masked data with SELECT";
}

/** The refusal's reason: `command` changes `table`, which has masked columns or shares its rows with one that has. */
export function schemaChangeReason(table: string, command: string): string {
  return `"${table}" has masked columns: ${command} on it (or on a table sharing its rows, a partition or parent) could move its data out of its masks ` +
    "(a renamed or generated column, a trigger, a rule, a partition, a grant), not allowed in a session with column masks";
}

function refuse(reason: string): MaskVerdict {
  return { kind: "refuse", reason };
}

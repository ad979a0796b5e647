// Masked values copied where the mask does not follow (docs/masking.md "Stored copies"): rows
// written from a query, CREATE TABLE AS, set_config, large objects, files… A later statement
// reads the copy from a table or setting that has no mask. In a session with column masks, a
// statement that stores values (the facts' SqlStores) is refused when they may come from a
// masked column. The gate judges the names here; what only the catalog can tell — a view among
// the sources, code that is not built in — ColumnMasks answers before the statement runs.

import type { StatementDecision } from "../engine/types.js";
import { bareName } from "./statement-names.js";

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

export type StoredVerdict =
  | { kind: "refuse"; reason: string }
  /** only the catalog can tell: the stored values come from relations, or code runs */
  | { kind: "ask" }
  | { kind: "none" };

/** What the statements' names say of the values they store. */
export function storedByName(statements: readonly StatementDecision[], masked: MaskedColumns): StoredVerdict {
  let ask = false;
  for (const { stores, functions, indirect } of statements) {
    if (stores === undefined) continue;
    const source = stores.from.find((name) => masked.has(bareName(name)));
    if (source !== undefined) return refuse(`"${source}", which has masked columns`);
    for (const target of stores.targets) {
      const table = bareName(target.names[0]!);
      const columns = masked.get(table);
      const column = columns === undefined ? undefined : target.columns.find((c) => c === "*" || columns.has(c));
      if (column === "*") return refuse(`a whole row of "${target.names[0]}", which has masked columns`);
      if (column !== undefined) return refuse(`the masked column ${table}.${column}`);
    }
    ask ||= stores.from.length > 0 || stores.targets.length > 0 || functions.length > 0 || indirect !== undefined;
  }
  return ask ? ASK : NONE;
}

const ASK: StoredVerdict = { kind: "ask" };
const NONE: StoredVerdict = { kind: "none" };

/** The refusal's reason: stored values may come from `source`. */
export function storedCopyReason(source: string): string {
  return `it stores values that may come from ${source}, and a mask does not follow a copy ` +
    "(rows written, CREATE TABLE AS, set_config, large objects, files): read masked data with SELECT";
}

function refuse(source: string): StoredVerdict {
  return { kind: "refuse", reason: storedCopyReason(source) };
}

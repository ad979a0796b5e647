// Which mask applies to each column of a result (docs/masking.md has the rules):
// - a column with provenance (RowDescription table OID + attnum) takes its own column mask, or
//   that of the same column of a table its table inherits from or is inherited by;
//   a column of a view that reads a table with masked columns takes that table's strongest mask,
//   and the strongest mask of the session when the view calls opaque code (catalog.ts);
// - a column without provenance (an expression, aggregate, row or JSON constructor, a function's
//   result) takes the strongest mask of the tables with masked columns the statement reads,
//   directly or through views — of every table with masked columns when the statement (or a
//   view it names) runs opaque code (a function, operator or cast that is not built in can read
//   any table), or returns the rows of a statement prepared or a cursor declared earlier
//   (EXECUTE, FETCH: their facts do not say what they read), or names a relation the catalog
//   cannot find (a temporary one, or one made in the client's open transaction).
// A column without a mask of its own never gets `partial` or `hash`: they become `redact`.
// Planner statistics hold sample values of every column: statements naming them are refused in
// sessions with column masks (query-gate.ts), views over them are masked whole (catalog.ts).

import type { MaskStrategy } from "../../bundle/format.js";
import type { SessionMasks, StatementDecision } from "../../engine/types.js";
import type { SqlIndirect } from "../../facts/types.js";
import { CATALOG_TTL_MS, type Catalog } from "./catalog.js";
import type { MaskColumn } from "../context.js";
import type { StatementInfo } from "../expectations.js";
import { skipCString } from "../messages.js";
import { bareName, statementNames } from "../statement-names.js";
import { SCHEMA_CHANGES, schemaChangeReason, storedCopyReason } from "./mask-refusals.js";

export interface Field {
  tableOid: number;
  attnum: number;
  typeOid: number;
  format: number;
}

export function decodeRowDescription(frame: Buffer): Field[] {
  const count = frame.readInt16BE(5);
  const fields: Field[] = [];
  let at = 7;
  for (let i = 0; i < count; i++) {
    at = skipCString(frame, at);
    fields.push({
      tableOid: frame.readInt32BE(at),
      attnum: frame.readInt16BE(at + 4),
      typeOid: frame.readInt32BE(at + 6),
      format: frame.readInt16BE(at + 16),
    });
    at += 18;
  }
  return fields;
}

const STRENGTH: Record<MaskStrategy["kind"], number> = { redact: 3, null: 3, hash: 2, partial: 1 };

export class ColumnMasks {
  /** strongest mask per bare table name that has masked columns */
  private readonly strongest = new Map<string, MaskStrategy>();
  /**
   * Whether a statement may run opaque code, by its facts — keyed by their `tables` list, which
   * every run of the same text (or of its literal-free template) shares, so a statement run again
   * is answered without the catalog — and when that was judged.
   */
  private readonly opaqueByFacts = new WeakMap<readonly string[], { value: boolean; at: number }>();
  /** catalogRefusal's answers, keyed like opaqueByFacts by what every run of the statement shares */
  private readonly refusalByFacts = new WeakMap<object, { reason: string | null; at: number }>();

  constructor(private readonly masks: SessionMasks, private readonly catalog: Catalog | null) {
    for (const [key, strategy] of masks.columns) {
      const parts = key.split(".");
      const table = parts[parts.length - 2];
      if (table === undefined) continue;
      this.strongest.set(table, stronger(this.strongest.get(table) ?? null, strategy)!);
    }
  }

  async resolve(fields: Field[], info: StatementInfo | null): Promise<MaskColumn[]> {
    let derived: Promise<MaskStrategy | null> | null = null;
    const columns: MaskColumn[] = [];
    for (const field of fields) {
      let strategy: MaskStrategy | null;
      if (field.tableOid !== 0 && this.catalog !== null) {
        strategy = await this.forColumn(field.tableOid, field.attnum);
      } else {
        derived ??= this.forStatement(info);
        strategy = await derived;
      }
      columns.push({ strategy, format: field.format, typeOid: field.typeOid });
    }
    return columns;
  }

  /**
   * For a statement the gate could not judge by name (mask-refusals.ts): whether it changes the
   * schema of a table that shares its rows with one that has masked columns (a partition, a
   * parent, a child), or stores values that may come from a masked column through what only the
   * catalog knows. The refusal's reason, or null.
   */
  async catalogRefusal(info: StatementInfo): Promise<string | null> {
    const reason = await this.judgeCatalogRefusal(info);
    const key = verdictKey(info);
    if (key !== undefined) this.refusalByFacts.set(key, { reason, at: Date.now() });
    return reason;
  }

  /**
   * catalogRefusal's answer for a statement judged within the catalog's TTL, without waiting:
   * a session repeats its statements (TPC-B's UPDATEs), and holding each one for a cached answer
   * costs it a pause and a few promise turns. undefined when it has to be asked.
   */
  knownCatalogRefusal(info: StatementInfo): string | null | undefined {
    const key = verdictKey(info);
    const known = key === undefined ? undefined : this.refusalByFacts.get(key);
    return known !== undefined && Date.now() - known.at < CATALOG_TTL_MS ? known.reason : undefined;
  }

  private async judgeCatalogRefusal(info: StatementInfo): Promise<string | null> {
    for (const { command, tables } of info.decision.statements) {
      if (!SCHEMA_CHANGES.has(command) || tables.length === 0) continue;
      if (this.catalog === null) return schemaChangeReason(tables[0]!, command);
      // a name the catalog cannot find is a relation this statement makes: it holds nothing yet
      const masked = (await this.catalog.readsOfNames(tables)).names.find((name) => this.strongest.has(name));
      if (masked !== undefined) return schemaChangeReason(masked, command);
    }
    return info.decision.statements.some((s) => s.stores !== undefined) ? this.storedMaskedData(info) : null;
  }

  /**
   * Whether the values a statement stores may come from a masked column through what only the
   * catalog knows — a view over a table with masked columns among their sources or as the table
   * written, or code that is not built in. The refusal's reason, or null.
   */
  private async storedMaskedData(info: StatementInfo): Promise<string | null> {
    if (this.catalog === null) return storedCopyReason("relations the gateway has no catalog to resolve");
    const opaque = storedCopyReason("code that is not built in (a function, operator or cast the gateway cannot see into)");
    if (await this.runsOpaqueCode(info)) return opaque;
    for (const { stores } of info.decision.statements) {
      if (stores === undefined) continue;
      if (stores.from.length > 0) {
        const reads = await this.catalog.readsOfNames(stores.from);
        if (reads.callsOpaqueCode) return opaque;
        if (reads.unresolved) return storedCopyReason("relations the catalog cannot see (a temporary one, or one made in the open transaction)");
        const masked = reads.names.find((name) => this.strongest.has(name));
        if (masked !== undefined) return storedCopyReason(`"${masked}" (through a view), which has masked columns`);
      }
      for (const target of stores.targets) {
        const reads = await this.catalog.readsOfNames(target.names);
        if (reads.callsOpaqueCode) return opaque;
        if (reads.unresolved) return storedCopyReason(`"${target.names[0]}", which the catalog cannot see (a temporary relation, or one made in the open transaction)`);
        const own = bareName(target.names[0]!);
        const masked = reads.names.find((name) => name !== own && this.strongest.has(name));
        if (masked !== undefined) return storedCopyReason(`"${masked}", which the written view "${target.names[0]}" reads`);
      }
    }
    return null;
  }

  /**
   * Whether the statement may run code the gateway cannot see into, as the masking judges it
   * (forStatement): a function, operator or cast that is not built in, a view that calls one,
   * EXECUTE or FETCH. Such code may PREPARE, DEALLOCATE, open and close cursors under any name.
   * Synchronous when every statement was judged within the catalog's TTL; a catalog that cannot
   * answer counts as yes. Never rejects.
   */
  mayRunOpaqueCode(info: StatementInfo): boolean | Promise<boolean> {
    let pending: Promise<boolean>[] | undefined;
    for (const statement of info.decision.statements) {
      const opaque = this.statementRunsOpaqueCode(statement);
      if (opaque === true) return true;
      if (opaque !== false) (pending ??= []).push(opaque);
    }
    if (pending === undefined) return false;
    return Promise.all(pending).then((all) => all.includes(true));
  }

  private statementRunsOpaqueCode(statement: StatementDecision): boolean | Promise<boolean> {
    const { tables, functions, indirect } = statement;
    if (indirect?.stored === true) return true;
    if (tables.length === 0 && functions.length === 0 && indirect === undefined) return false;
    const known = this.opaqueByFacts.get(tables);
    if (known !== undefined && Date.now() - known.at < CATALOG_TTL_MS) return known.value;
    const judged = (value: boolean): boolean => {
      this.opaqueByFacts.set(tables, { value, at: Date.now() });
      return value;
    };
    return this.judgeStatement(statement).then(judged, () => judged(true));
  }

  private async judgeStatement({ tables, functions, indirect }: StatementDecision): Promise<boolean> {
    // Without a catalog nothing can be told built in, and views cannot be looked into.
    if (this.catalog === null) return functions.length > 0 || indirect !== undefined;
    if (await this.catalog.runsOpaqueCode({ functions, operators: indirect?.operators ?? [], casts: indirect?.casts ?? [], attributes: indirect?.attributes ?? [] })) return true;
    if (tables.length === 0) return false;
    // a relation the catalog cannot see (a temporary view, say) may call anything
    const reads = await this.catalog.readsOfNames(tables);
    return reads.callsOpaqueCode || reads.unresolved;
  }

  private async forColumn(oid: number, attnum: number): Promise<MaskStrategy | null> {
    const relation = await this.catalog!.relation(oid);
    if (relation === null) return this.strongestOverall();
    const column = relation.columns.get(attnum);
    const family = [relation, ...relation.family];
    // a column the catalog does not know yet (added in the client's open transaction, or since the answer was cached)
    if (column === undefined) return borrowed(this.strongestOf([...family.map((r) => r.name.toLowerCase()), ...relation.reads]));
    const col = column.toLowerCase();
    let own: MaskStrategy | null = null;
    for (const r of family) {
      const name = r.name.toLowerCase();
      own = stronger(own, this.masks.columns.get(`${r.schema.toLowerCase()}.${name}.${col}`) ?? this.masks.columns.get(`${name}.${col}`) ?? null);
    }
    if (own !== null) return own;
    if (relation.callsOpaqueCode) return this.strongestOverall();
    return borrowed(this.strongestOf(relation.reads.filter((r) => r !== relation.name.toLowerCase())));
  }

  private async forStatement(info: StatementInfo | null): Promise<MaskStrategy | null> {
    if (this.strongest.size === 0) return null;
    // Without the statement (a portal the gateway never saw parsed) nothing says what it read.
    if (info === null || (await this.runsOpaqueCode(info))) return this.strongestOverall();
    const tables = statementNames(info.decision, "tables");
    const direct = this.strongestOf(tables.map(bareName));
    if (this.catalog === null || tables.length === 0) return borrowed(direct);
    const reads = await this.catalog.readsOfNames(tables);
    if (reads.callsOpaqueCode || reads.unresolved) return this.strongestOverall();
    return borrowed(stronger(direct, this.strongestOf(reads.names)));
  }

  private async runsOpaqueCode(info: StatementInfo): Promise<boolean> {
    const indirect = indirectOf(info);
    if (indirect?.stored === true) return true;
    const functions = statementNames(info.decision, "functions");
    if (functions.length === 0 && indirect === null) return false;
    // Without a catalog nothing can be told built in.
    if (this.catalog === null) return true;
    return this.catalog.runsOpaqueCode({ functions, operators: indirect?.operators ?? [], casts: indirect?.casts ?? [], attributes: indirect?.attributes ?? [] });
  }

  private strongestOf(tables: readonly string[]): MaskStrategy | null {
    let best: MaskStrategy | null = null;
    for (const table of tables) best = stronger(best, this.strongest.get(table) ?? null);
    return best;
  }

  private strongestOverall(): MaskStrategy | null {
    return borrowed(this.strongestOf([...this.strongest.keys()]));
  }
}

const REDACT: MaskStrategy = { kind: "redact" };

/**
 * What every run of a one-statement text shares (the facts' own `stores`, or else their `tables`,
 * for the exact text and its literal-free template alike): the key of a verdict on it. Several
 * statements, or none, have no key.
 */
function verdictKey(info: StatementInfo): object | undefined {
  const { statements } = info.decision;
  if (statements.length !== 1) return undefined;
  return statements[0]!.stores ?? statements[0]!.tables;
}

/**
 * The mask of a column without one of its own (derived, or a view's): `partial` or `hash` of it
 * would show what the client chose to compute — the last characters of `repeat('#', 60) ||
 * substr(email, i, 4)`, the keyed hash of a literal to compare with a masked column's hashes.
 */
function borrowed(strategy: MaskStrategy | null): MaskStrategy | null {
  return strategy?.kind === "partial" || strategy?.kind === "hash" ? REDACT : strategy;
}

/**
 * The operators, casts, attribute names and stored statements of the statement's text: its one statement's own
 * (shared by every run of the same text), or the union of several.
 */
export function indirectOf(info: StatementInfo): SqlIndirect | null {
  const { statements } = info.decision;
  if (statements.length === 1) return statements[0]!.indirect ?? null;
  const all = statements.flatMap((s) => (s.indirect === undefined ? [] : [s.indirect]));
  if (all.length === 0) return null;
  return {
    operators: [...new Set(all.flatMap((i) => i.operators))].sort(),
    casts: [...new Set(all.flatMap((i) => i.casts))].sort(),
    attributes: [...new Set(all.flatMap((i) => i.attributes))].sort(),
    stored: all.some((i) => i.stored),
  };
}

function stronger(a: MaskStrategy | null, b: MaskStrategy | null): MaskStrategy | null {
  if (a === null) return b;
  if (b === null) return a;
  return STRENGTH[b.kind] > STRENGTH[a.kind] ? b : a;
}

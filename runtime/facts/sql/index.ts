// SQL facts from the real PostgreSQL parser. See docs/sql-facts.md for the decisions.

import type { SqlFacts, SqlStatementFacts } from "../types.js";
import { BoundedCache } from "./cache.js";
import { assertParserLoaded } from "./parser.js";
import { extractUncached } from "./statements.js";
import { singleStatementText, templateKey } from "./template-key.js";

export { loadSqlParser } from "./parser.js";

/** Exact text → facts: applications send the same statements over and over. */
const exact = new BoundedCache<SqlFacts>(5_000, 8_192);
/** Literal-free template → facts of a single statement (template-key.ts says when one exists). */
const templates = new BoundedCache<SqlStatementFacts>(5_000, 8_192);

/**
 * Facts of every statement in `text`. Synchronous; throws only when loadSqlParser() has not
 * completed. Any other failure, including text that does not parse, is `{ ok: false }`.
 * The result is frozen: it may be shared with later calls on the same text.
 */
export function extractSqlFacts(text: string): SqlFacts {
  assertParserLoaded();
  if (typeof text !== "string") return { ok: false, error: "query text is not a string" };
  const cached = exact.get(text);
  if (cached) return cached;
  const key = templateKey(text);
  const shared = key === undefined ? undefined : templates.get(key);
  // A literal variant is answered from its template and not kept itself: variants are many.
  if (shared) return freeze({ ok: true, statements: [{ ...shared, text: singleStatementText(text) }] });
  const facts = freeze(safely(text));
  exact.set(text, facts);
  // Refusals that read a literal get no template (literalDependent).
  if (key !== undefined && facts.ok && facts.statements.length === 1 && !literalDependent(facts.statements[0]!)) {
    templates.set(key, facts.statements[0]!);
  }
  return facts;
}

/**
 * Statements a refusal may judge by a literal: set_config's and SET's values (lexer-settings.ts),
 * and a function named by a string in DDL (`SFUNC = 'set_config'`, a C symbol `AS
 * 'set_config_by_name'`: named-functions.ts), which only CREATE and ALTER statements hold.
 */
function literalDependent(s: SqlStatementFacts): boolean {
  return s.functions.includes("set_config") || s.command === "set" || s.command === "alter" || s.command === "create";
}

function safely(text: string): SqlFacts {
  try {
    return extractUncached(text);
  } catch (error) {
    return { ok: false, error: `cannot analyse the statement: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function freeze(facts: SqlFacts): SqlFacts {
  if (facts.ok) facts.statements.forEach(freezeStatement);
  if (facts.ok) Object.freeze(facts.statements);
  return Object.freeze(facts);
}

function freezeStatement(s: SqlStatementFacts): void {
  Object.freeze(s.tables);
  Object.freeze(s.functions);
  if (s.indirect !== undefined) {
    Object.freeze(s.indirect.operators);
    Object.freeze(s.indirect.casts);
    Object.freeze(s.indirect.attributes);
    Object.freeze(s.indirect);
  }
  if (s.executes !== undefined) Object.freeze(s.executes);
  if (s.fetches !== undefined) Object.freeze(s.fetches);
  if (s.stores !== undefined) {
    Object.freeze(s.stores.from);
    for (const target of s.stores.targets) {
      Object.freeze(target.names);
      Object.freeze(target.columns);
      Object.freeze(target);
    }
    Object.freeze(s.stores.targets);
    Object.freeze(s.stores);
  }
  if (s.sessionNames !== undefined) {
    Object.freeze(s.sessionNames.statements);
    Object.freeze(s.sessionNames.portals);
    Object.freeze(s.sessionNames);
  }
  Object.freeze(s);
}

// SQL facts from the real PostgreSQL parser. See docs/sql-facts.md for the decisions.

import type { SqlFacts, SqlStatementFacts } from "../types.js";
import { LruCache } from "./cache.js";
import { assertParserLoaded } from "./parser.js";
import { extractUncached } from "./statements.js";

export { loadSqlParser } from "./parser.js";

/** Exact-text cache: the lexer is no cheaper than the parser here, so no literal-free key (docs/sql-facts.md). */
const cache = new LruCache<SqlFacts>(10_000, 4_000_000);

/**
 * Facts of every statement in `text`. Synchronous; throws only when loadSqlParser() has not
 * completed. Any other failure, including text that does not parse, is `{ ok: false }`.
 * The result is frozen: it may be shared with later calls on the same text.
 */
export function extractSqlFacts(text: string): SqlFacts {
  assertParserLoaded();
  if (typeof text !== "string") return { ok: false, error: "query text is not a string" };
  const cached = cache.get(text);
  if (cached) return cached;
  const facts = freeze(safely(text));
  cache.set(text, facts);
  return facts;
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
  Object.freeze(s);
}

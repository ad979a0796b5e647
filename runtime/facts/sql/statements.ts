// Parsed text → one SqlStatementFacts per statement, each with its own slice of the text.

import type { SqlFacts } from "../types.js";
import { statementFacts } from "./facts.js";
import { parse } from "./parser.js";
import { refusal } from "./refusals.js";

export function extractUncached(text: string): SqlFacts {
  const nul = text.indexOf("\0");
  // The parser reads a C string and would stop at the NUL, hiding what follows.
  if (nul >= 0) return { ok: false, error: "query text contains a NUL character", position: nul };
  if (text === "") return { ok: true, statements: [] };
  const parsed = parse(text);
  if (!parsed.ok) return parsed;
  for (const raw of parsed.tree.stmts ?? []) {
    const refused = raw.stmt && refusal(raw.stmt);
    if (refused) return { ok: false, error: refused, refused: true, ...(raw.stmt_location !== undefined ? { position: raw.stmt_location } : {}) };
  }
  const slice = slicer(text);
  const statements = (parsed.tree.stmts ?? []).map((raw) => {
    if (!raw.stmt) throw new Error("parser returned a statement without a tree");
    const start = raw.stmt_location ?? 0;
    // stmt_len 0 means "to the end of the text" (the last statement, without a semicolon)
    const end = raw.stmt_len ? start + raw.stmt_len : undefined;
    return statementFacts(raw.stmt, slice(start, end).trim());
  });
  return { ok: true, statements };
}

/** Statement locations are UTF-8 byte offsets; JavaScript strings index UTF-16 units. */
function slicer(text: string): (start: number, end: number | undefined) => string {
  if (/^[\x00-\x7f]*$/.test(text)) return (start, end) => text.slice(start, end);
  const bytes = new TextEncoder().encode(text);
  const decoder = new TextDecoder();
  return (start, end) => decoder.decode(bytes.subarray(start, end));
}

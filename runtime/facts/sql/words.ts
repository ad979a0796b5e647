// The words of a statement as the server's scanner reads them: what a server message may quote
// back as a name the client wrote (runtime/postgres/masks/message-scrub.ts).

import { scanSync } from "libpg-query";
import { assertParserLoaded } from "./parser.js";

/**
 * The identifiers, keywords, operators and punctuation of `text`; unquoted identifiers and
 * keywords lowercased, quoted ones as written. Comments, string literals and numbers are not
 * words: a comment listing candidate values would otherwise let an error message confirm one.
 * Text the scanner rejects has no words.
 */
export function statementWords(text: string): ReadonlySet<string> {
  assertParserLoaded();
  const words = new Set<string>();
  let tokens;
  try {
    tokens = scanSync(text).tokens;
  } catch {
    return words;
  }
  for (const token of tokens) {
    if (token.tokenName === "IDENT") words.add(identifier(token.text));
    else if (token.keywordKind > 0) words.add(token.text.toLowerCase());
    else if (!NOT_WORDS.has(token.tokenName)) words.add(token.text);
  }
  return words;
}

/** literals (strings, bit strings, numbers) and comments */
const NOT_WORDS: ReadonlySet<string> = new Set(["SCONST", "USCONST", "BCONST", "XCONST", "ICONST", "FCONST", "SQL_COMMENT", "C_COMMENT", "UIDENT"]);

function identifier(text: string): string {
  if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) return text.slice(1, -1).replaceAll('""', '"');
  return text.toLowerCase();
}

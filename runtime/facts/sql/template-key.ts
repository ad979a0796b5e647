// A cache key with the literals taken out, so `... WHERE id = 41` and `... WHERE id = 42` share
// one parse. Sound only if this scanner splits the text exactly where PostgreSQL's lexer does,
// so it accepts just a narrow, unambiguous subset and gives up (undefined: parse the text) on
// anything else: comments, dollar quotes, quoted identifiers, backslashes, prefixed strings
// (E'', B'', X'', U&''), non-ASCII, control characters other than the whitespace the lexer
// skips (a placeholder starts with one: `\u0001s` in a text would key as a string), and more
// than one statement. Within that subset a single-quoted string ends at the first quote not
// doubled, and a number is a run of digits with an optional fraction and exponent — the same
// under either `standard_conforming_strings` setting. Facts never depend on literal values
// (docs/sql-facts.md), so texts with one key have one set of facts.

const NUMBER = /[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

export function templateKey(text: string): string | undefined {
  let key = "";
  let from = 0; // start of the run of text copied into the key verbatim
  let i = 0;
  let semicolon = false;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c > 0x7e || isControl(c) || (semicolon && !isSpace(c))) return undefined;
    if (c === 0x24 /* $ */ || c === 0x22 /* " */ || c === 0x5c /* \ */) return undefined;
    const next = text.charCodeAt(i + 1);
    if ((c === 0x2d && next === 0x2d) || (c === 0x2f && next === 0x2a)) return undefined; // -- and /*
    if (c === 0x3b /* ; */) {
      semicolon = true;
      i++;
    } else if (c === 0x27 /* ' */) {
      if (i > 0 && (isIdent(text.charCodeAt(i - 1)) || text.charCodeAt(i - 1) === 0x26 /* & */)) return undefined;
      const end = closingQuote(text, i + 1);
      if (end === -1) return undefined;
      key += `${text.slice(from, i)}\u0001s`;
      i = from = end + 1;
    } else if (c >= 0x30 && c <= 0x39 && !(i > 0 && isIdent(text.charCodeAt(i - 1)))) {
      NUMBER.lastIndex = i;
      const end = i + NUMBER.exec(text)![0].length;
      const after = text.charCodeAt(end);
      if (isIdent(after) || after === 0x2e /* . */) return undefined;
      key += `${text.slice(from, i)}\u0001n`;
      i = from = end;
    } else i++;
  }
  return key + text.slice(from);
}

function isIdent(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

/** Index of the quote that closes a string whose content starts at `from`; '' is an escaped quote. */
function closingQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7e || isControl(c) || c === 0x5c) return -1;
    if (c === 0x27) {
      if (text.charCodeAt(i + 1) === 0x27) i++;
      else return i;
    }
  }
  return -1;
}

/** A control character other than the whitespace PostgreSQL's lexer skips: the key's placeholders are made of one (\u0001). */
function isControl(c: number): boolean {
  return c < 0x20 && !isSpace(c);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c;
}

/** The statement text the parser would slice for the single statement of `text`. */
export function singleStatementText(text: string): string {
  const trimmed = text.trimEnd();
  return (trimmed.endsWith(";") ? trimmed.slice(0, -1) : trimmed).trim();
}

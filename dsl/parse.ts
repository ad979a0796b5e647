// Text → AST. Wraps the generated peggy parser and turns its errors into located
// diagnostics; never throws on bad input.

import type { Position, SourceFile, Span } from "./ast.js";
import type { Diagnostic } from "./diagnostic.js";
import { parse, SyntaxError as PeggySyntaxError, type Expectation } from "./generated/grammar.js";

export interface ParseResult {
  /** present exactly when there are no diagnostics */
  file?: SourceFile;
  diagnostics: Diagnostic[];
}

/** The codes of the diagnostics the parser emits (documented in dsl/README.md). */
export const PARSE_CODES = {
  syntax: "HG0001",
  unterminatedString: "HG0002",
  badDuration: "HG0003",
  badEscape: "HG0004",
  chainedComparison: "HG0005",
  numberOutOfRange: "HG0006",
  tooDeep: "HG0007",
} as const;

export function parseSource(path: string, text: string): ParseResult {
  try {
    // The generated parser is untyped: the grammar's actions build exactly dsl/ast.ts.
    const file = parse(text, { grammarSource: path }) as SourceFile;
    return { file, diagnostics: [] };
  } catch (err) {
    if (err instanceof PeggySyntaxError) return { diagnostics: [fromSyntaxError(path, text, err)] };
    if (err instanceof RangeError && /call stack/i.test(err.message)) return { diagnostics: [tooDeep(path)] };
    throw err;
  }
}

// Errors raised by the grammar itself read "HGxxxx message" (see dsl/grammar.peggy).
const GRAMMAR_ERROR = /^(HG\d{4}) (.*)$/s;

function fromSyntaxError(path: string, text: string, err: PeggySyntaxError): Diagnostic {
  const own = GRAMMAR_ERROR.exec(err.message);
  if (own?.[1] !== undefined && own[2] !== undefined) {
    return {
      code: own[1],
      severity: "error",
      message: own[2],
      span: { file: path, start: { ...err.location.start }, end: { ...err.location.end } },
    };
  }
  const start: Position = { ...err.location.start };
  const found = tokenAt(text, start.offset);
  const span: Span = {
    file: path,
    start,
    end: { offset: start.offset + found.length, line: start.line, column: start.column + found.length },
  };
  const diagnostic: Diagnostic = { code: PARSE_CODES.syntax, severity: "error", message: `unexpected ${found.description}`, span };
  const expected = describeExpected(err.expected ?? []);
  if (expected.length > 0) diagnostic.expected = expected;
  return diagnostic;
}

interface FoundToken {
  description: string;
  /** UTF-16 length of the token on its line; 0 for end of file and newline */
  length: number;
}

const WORD = /[A-Za-z_][A-Za-z0-9_-]*|-?[0-9][0-9A-Za-z_.]*/y;

/** What the parser stumbled on, as a whole word where there is one (`"tags"`, not `"t"`). */
function tokenAt(text: string, offset: number): FoundToken {
  if (offset >= text.length) return { description: "end of file", length: 0 };
  const ch = text.codePointAt(offset) ?? 0;
  if (ch === 0x0a) return { description: "newline", length: 0 };
  if (ch === 0x22) return { description: "string", length: 1 };
  WORD.lastIndex = offset;
  const word = WORD.exec(text)?.[0] ?? String.fromCodePoint(ch);
  return { description: JSON.stringify(word), length: word.length };
}

// Whitespace and comments may appear almost anywhere; listing them would only add noise.
const SILENT = new Set(["whitespace", "comment"]);

function describeExpected(expectations: readonly Expectation[]): string[] {
  const names = new Set<string>();
  for (const e of expectations) {
    const name = describeExpectation(e);
    if (!SILENT.has(name)) names.add(name);
  }
  return [...names].sort();
}

function describeExpectation(e: Expectation): string {
  switch (e.type) {
    case "literal":
      return JSON.stringify(e.text);
    case "other":
      return e.description;
    case "end":
      return "end of file";
    case "any":
      return "any character";
    case "class":
      return "character";
  }
}

function tooDeep(path: string): Diagnostic {
  const start: Position = { offset: 0, line: 1, column: 1 };
  return {
    code: PARSE_CODES.tooDeep,
    severity: "error",
    message: "the file nests expressions too deeply to parse",
    span: { file: path, start, end: start },
  };
}

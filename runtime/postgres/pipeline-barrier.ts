// The pipeline barrier. The gateway decides a text as its parser lexes it: UTF-8 and
// standard_conforming_strings = on. The facts refuse every statement they can see changing
// either (runtime/facts/sql/lexer-settings.ts), but opaque code an identity may be allowed to
// create and run — a LANGUAGE sql function whose body is a string, a trigger, a view calling
// one — can still change them, and the server reports the change only at its next
// ReadyForQuery (the rewriter then ends the session: lexer-guard.ts). PostgreSQL lexes a simple
// Query's whole text before running any of it, but a message pipelined behind a statement — a
// Query or Parse sent before the statement's ReadyForQuery came back — is lexed after that
// statement ran, under whatever it set, and may even set it back before any report:
//
//   Parse/Bind/Execute "SELECT f()"   -- f turns standard_conforming_strings off
//   Query "SELECT 'a\''; DROP TABLE victims; SET standard_conforming_strings = on; --'"
//   Sync
//
// is one SELECT to the gateway and a SELECT, a DROP and a SET to the server. So a Query or Parse
// whose text would lex differently under another setting is refused (42501) while something
// that may run code was sent and its ReadyForQuery not read yet (ExpectationQueue's
// settingsUnreported). A text lexes differently only if it has
// - a byte ≥ 0x80: another client encoding reads it as other characters (names change), and
//   in SJIS, BIG5, GBK … a character's trailing byte can be a backslash the gateway reads as an
//   escape; or
// - a backslash inside a plain '…' string (as the real lexer, libpg-query's scanSync, splits the
//   text): with standard_conforming_strings off it is an escape. Backslashes elsewhere (E'…',
//   $$…$$, "…", comments) read the same under both settings.
// The hot path stays a flag test: the byte checks run only while code may be unreported, and
// the scan only when the text has a backslash.

import { isAscii } from "node:buffer";
import { scanSync } from "libpg-query";
import type { StatementInfo } from "./expectations.js";
import { skipCString } from "./messages.js";

/** Commands that run no user code when they name no relation, function, operator or cast. */
const CODE_FREE_COMMANDS: ReadonlySet<string> = new Set(["select", "begin", "rollback", "show", "set"]);
const BACKSLASH = 0x5c;

/**
 * Why `bytes` (a Query's or Parse's text, `text` decoded) would lex differently under another
 * client_encoding or standard_conforming_strings; undefined when it would not.
 */
export function lexerSensitivity(bytes: Buffer, text: () => string): string | undefined {
  const found = scanBytes(bytes);
  if (found === NON_ASCII) return "it has non-ASCII bytes, which another client_encoding reads as other characters";
  if (found === NOTHING) return undefined;
  return backslashInPlainString(text())
    ? "it has a backslash in a '…' string, which standard_conforming_strings = off reads as an escape"
    : undefined;
}

const NOTHING = 0;
const A_BACKSLASH = 1;
const NON_ASCII = 2;
/** below this many bytes a loop here beats the native calls' fixed cost */
const SHORT = 128;

function scanBytes(bytes: Buffer): typeof NOTHING | typeof A_BACKSLASH | typeof NON_ASCII {
  if (bytes.length > SHORT) {
    if (!isAscii(bytes)) return NON_ASCII;
    return bytes.indexOf(BACKSLASH) < 0 ? NOTHING : A_BACKSLASH;
  }
  let found: typeof NOTHING | typeof A_BACKSLASH = NOTHING;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte >= 0x80) return NON_ASCII;
    if (byte === BACKSLASH) found = A_BACKSLASH;
  }
  return found;
}

/** A plain string token ('…', N'…', continued on the next line) holding a backslash; true when the text does not scan. */
function backslashInPlainString(text: string): boolean {
  let tokens;
  try {
    tokens = scanSync(text).tokens;
  } catch {
    return true;
  }
  return tokens.some((t) => t.tokenName === "SCONST" && t.text.startsWith("'") && t.text.includes("\\"));
}

/**
 * Whether running the statement may run user code (which may change a setting): anything but
 * BEGIN, ROLLBACK, SHOW, SET (not SET CONSTRAINTS: it fires deferred triggers) and SELECT/VALUES
 * that name no relation (a view, a table's triggers or row security may call functions), call
 * no function, and apply no operator or cast. COMMIT runs deferred triggers; DO, CALL, EXECUTE
 * and DDL (event triggers) run code.
 */
export function mayRunCode(info: StatementInfo): boolean {
  const statements = info.decision.statements;
  if (statements.length === 0) return info.text.trim() !== "";
  return statements.some((s) =>
    !CODE_FREE_COMMANDS.has(s.command) || s.tables.length > 0 || s.functions.length > 0 || s.indirect !== undefined
    || s.stores !== undefined || s.sessionNames !== undefined || (s.command === "set" && /constraints/i.test(info.text)));
}

/** below this OID every type is built in; from it on a type may be a domain whose CHECK calls user code */
const FIRST_NON_BUILTIN_OID = 10_000;

/**
 * Whether a Parse names a parameter type that is not built in: binding a value of a domain runs
 * the domain's CHECK constraints, which may call any function. (Types the server infers from the
 * text come from the relations, casts and functions it names, which mayRunCode counts.)
 */
export function parameterTypesMayRunCode(parse: Buffer): boolean {
  const offset = skipCString(parse, skipCString(parse, 5));
  const count = parse.readUInt16BE(offset);
  for (let i = 0; i < count; i++) {
    if (parse.readUInt32BE(offset + 2 + 4 * i) >= FIRST_NON_BUILTIN_OID) return true;
  }
  return false;
}

/**
 * What the server's unnamed prepared statement and unnamed portal may run, followed from the
 * messages the gate forwards (no SQL and no function can create or replace either: they are the
 * protocol's own). Within an extended-protocol batch a Parse or Bind that fails or is skipped
 * takes every later message of the batch with it, so there the latest one forwarded is what a
 * later Bind or Execute of the batch would use; after a Sync, any of the batch's values (or the
 * one before it) may be left, so only what all of them allow is kept. Conservative: a named
 * statement or portal is always taken to run code.
 */
export class UnnamedStatements {
  /** the unnamed statement (if any) runs no code */
  private statementFree = true;
  /** the unnamed portal (if any) runs no code */
  private portalFree = true;
  /** what every value the batch set (and the one before it) allows: what may be left after its Sync */
  private batchStatementFree = true;
  private batchPortalFree = true;

  /** a Parse forwarded; info null: refused (the sentinel fails to parse); typedCode: its parameter types may run code (parameterTypesMayRunCode) */
  parsed(name: string, info: StatementInfo | null, typedCode = false): void {
    if (name !== "" || info === null) return;
    this.statementFree = !typedCode && !mayRunCode(info);
    this.batchStatementFree &&= this.statementFree;
  }

  /** a simple Query forwarded: the server drops the unnamed statement and portal */
  query(): void {
    this.statementFree = true;
    this.portalFree = true;
  }

  /** a Bind forwarded; returns whether planning it may run code (immutable functions are folded at planning) */
  bound(portal: string, statement: string, refused: boolean): boolean {
    if (refused) return false;
    const free = statement === "" && this.statementFree;
    if (portal === "") {
      this.portalFree = free;
      this.batchPortalFree &&= free;
    }
    return !free;
  }

  /** whether an Execute of `portal` may run code */
  executes(portal: string): boolean {
    return !(portal === "" && this.portalFree);
  }

  synced(): void {
    this.statementFree = this.batchStatementFree;
    this.portalFree = this.batchPortalFree;
  }
}

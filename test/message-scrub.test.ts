// The scrubber of upstream ErrorResponse/NoticeResponse messages (runtime/postgres/masks/message-scrub.ts)
// on messages shaped as PostgreSQL 15 sends them (fields copied from the real server), read back
// with pg-protocol's own parser, as the client reads them.

import { Parser } from "pg-protocol/dist/parser.js";
import { beforeAll, describe, expect, it } from "vitest";
import type { MaskStrategy } from "../runtime/bundle/format.js";
import { loadSqlParser } from "../runtime/facts/sql/index.js";
import { createRowMasking } from "../runtime/postgres/masks/masking-port.js";
import {
  FUNCTION_OUTPUT, MALFORMED, NOTIFICATION_PAYLOAD, PARAMETER_VALUE, REDACTED_FIELD, scrubMessage, scrubNotification, scrubParameterStatus, valueDetector,
  type ScrubOptions,
} from "../runtime/postgres/masks/message-scrub.js";
import type { DetectorName } from "../runtime/schema/attributes.js";
import { seededRandom } from "../runtime/seeded-random.js";

type Fields = [string, string][];

// the statement's words come from PostgreSQL's scanner
beforeAll(async () => {
  await loadSqlParser();
});

function message(type: "E" | "N", fields: Fields): Buffer {
  const body = Buffer.from(fields.map(([c, v]) => `${c}${v}\0`).join("") + "\0", "utf8");
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

/** the fields in order, as raw pairs */
function fieldsOf(frame: Buffer): Fields {
  const out: Fields = [];
  for (let at = 5; frame[at] !== 0; ) {
    const end = frame.indexOf(0, at + 1);
    out.push([String.fromCharCode(frame[at]!), frame.toString("utf8", at + 1, end)]);
    at = end + 1;
  }
  return out;
}

/** what pg hands the application (err.message, err.detail, …): the output must parse as one message of its type */
function parsed(frame: Buffer): Record<string, unknown> {
  const messages: Record<string, unknown>[] = [];
  new Parser().parse(frame, (m) => messages.push(m as unknown as Record<string, unknown>));
  expect(messages).toHaveLength(1);
  expect(messages[0]!.name).toBe(frame[0] === 0x45 ? "error" : "notice");
  return messages[0]!;
}

const COLUMNS: ScrubOptions = { columns: true };
const masking = createRowMasking(Buffer.alloc(32, 7));
const REDACT: MaskStrategy = { kind: "redact" };

function detecting(detectors: [DetectorName, MaskStrategy][], columns = false): ScrubOptions {
  return { columns, detect: valueDetector(masking, new Map(detectors)) };
}

function scrub(fields: Fields, options: ScrubOptions = COLUMNS, statement?: string, type: "E" | "N" = "E"): Fields {
  const out = scrubMessage(message(type, fields), options, statement);
  parsed(out);
  return fieldsOf(out);
}

const field = (fields: Fields, code: string): string | undefined => fields.find(([c]) => c === code)?.[1];

/** a server error: severity, code, message, then what else is given, then the source location */
function server(code: string, m: string, more: Fields = [], routine = "some_routine"): Fields {
  return [["S", "ERROR"], ["V", "ERROR"], ["C", code], ["M", m], ...more, ["F", "somefile.c"], ["L", "42"], ["R", routine]];
}

describe("column-mask sessions: values the server quotes", () => {
  it("22: a quoted input value goes, the skeleton, SQLSTATE, severity and location stay in their order", () => {
    const input = server("22P02", 'invalid input syntax for type integer: "123-45-6789"', [], "pg_strtoint32");
    expect(scrub(input, COLUMNS, "select ssn::int from people")).toEqual([
      ["S", "ERROR"], ["V", "ERROR"], ["C", "22P02"], ["M", 'invalid input syntax for type integer: "[REDACTED]"'],
      ["F", "somefile.c"], ["L", "42"], ["R", "pg_strtoint32"],
    ]);
  });

  it("22: unquoted numbers and byte sequences go; a name of the statement stays", () => {
    expect(field(scrub(server("22008", "date field value out of range: 2024-13-01")), "M")).toBe("date field value out of range: [REDACTED]");
    const range = server("22023", '-1 ms is outside the valid range for parameter "statement_timeout" (0 .. 2147483647)');
    expect(field(scrub(range, COLUMNS, "select set_config('statement_timeout', (-id)::text, true) from people"), "M"))
      .toBe('[REDACTED] ms is outside the valid range for parameter "[REDACTED]" ([REDACTED] .. [REDACTED])');
    // a name is known when the statement has it as an identifier, not inside a string literal
    expect(field(scrub(range, COLUMNS, "set statement_timeout = -1"), "M"))
      .toBe('[REDACTED] ms is outside the valid range for parameter "statement_timeout" ([REDACTED] .. [REDACTED])');
    const bytes = server("22021", 'invalid byte sequence for encoding "UTF8": 0xe9 0x41');
    // 'UTF8' is a string literal of the statement, not a name of it
    expect(field(scrub(bytes, COLUMNS, "select convert_from(b, 'UTF8') from t"), "M")).toBe('invalid byte sequence for encoding "[REDACTED]": [REDACTED]');
    // division by zero quotes nothing: the message comes out byte for byte
    const zero = message("E", server("22012", "division by zero", [], "int4div"));
    expect(scrubMessage(zero, COLUMNS, "select 1/0")).toEqual(zero);
  });

  it("22: a detail goes whole (XML and JSON print the value unquoted), context lines that quote go", () => {
    const xml = scrub(server("2200M", "invalid XML document", [["D", "line 1: Start tag expected, '<' not found\n123-45-6789\n^"]]));
    expect(field(xml, "D")).toBe(REDACTED_FIELD);
    const json = scrub(server("22P02", "invalid input syntax for type json", [["D", 'Expected end of input, but found "-45".'], ["W", "JSON data, line 1: 123-45..."]]));
    expect(field(json, "M")).toBe("invalid input syntax for type json");
    expect(field(json, "D")).toBe(REDACTED_FIELD);
    expect(field(json, "W")).toBe(REDACTED_FIELD);
  });

  it("a value holding quotes cannot split the redaction and show its middle; an unclosed quote redacts to the end", () => {
    expect(field(scrub(server("22P02", 'invalid input syntax for type integer: "a" leaked "b"')), "M"))
      .toBe('invalid input syntax for type integer: "[REDACTED]"');
    expect(field(scrub(server("22P02", 'invalid input syntax for type integer: "a" and "people" leaked "b"'), COLUMNS, "select people"), "M"))
      .toBe('invalid input syntax for type integer: "[REDACTED]"');
    expect(field(scrub(server("42P01", 'relation "abc does not exist')), "M")).toBe('relation "[REDACTED]"');
    expect(field(scrub(server("42P01", "relation 'abc does not exist")), "M")).toBe('relation "[REDACTED]"');
  });

  it("23505: the constraint is a name of the message, the key's value goes, its columns stay", () => {
    const out = scrub(server("23505", 'duplicate key value violates unique constraint "people_email_key"', [
      ["D", "Key (email)=(alice@example.com) already exists."], ["s", "probe"], ["t", "people"], ["n", "people_email_key"],
    ], "_bt_check_unique"));
    expect(field(out, "M")).toBe('duplicate key value violates unique constraint "people_email_key"');
    expect(field(out, "D")).toBe("Key (email)=([REDACTED]) already exists.");
    expect(out.map(([c]) => c).join("")).toBe("SVCMDstnFLR");
    expect(field(scrub(server("23505", "could not create unique index \"i\"", [["D", "Key (lower(email))=(a@b.c) is duplicated."], ["n", "i"]])), "D"))
      .toBe("Key (lower(email))=([REDACTED]) is duplicated.");
  });

  it("23503, 23502, 23514, 23P01, partitions: each key or row template keeps its names, not its values", () => {
    const details: [string, string, string][] = [
      ["23503", 'Key (pid)=(99) is not present in table "people".', 'Key (pid)=([REDACTED]) is not present in table "people".'],
      ["23503", 'Key (id)=(1) is still referenced from table "orders".', 'Key (id)=([REDACTED]) is still referenced from table "orders".'],
      ["23502", "Failing row contains (null, Ada, alice@example.com, 123-45-6789).", "Failing row contains ([REDACTED])."],
      ["23514", "Failing row contains (3, B, c@example.com, x).", "Failing row contains ([REDACTED])."],
      ["23P01", "Key (room, during)=(1, [2024-01-01,2024-01-02)) conflicts with existing key (room, during)=(1, [2024-01-01,2024-01-03)).",
        "Key (room, during)=([REDACTED]) conflicts with existing key (room, during)=([REDACTED])."],
      ["23514", "Partition key of the failing row contains (region) = (eu-123-45-6789).", "Partition key of the failing row contains (region) = ([REDACTED])."],
      ["44000", "Failing row contains (1, secret).", "Failing row contains ([REDACTED])."],
    ];
    for (const [code, detail, want] of details) expect(field(scrub(server(code, "violation", [["D", detail]])), "D")).toBe(want);
    // a value that imitates the template's tail stays inside the redacted part
    expect(field(scrub(server("23505", "x", [["D", "Key (email)=(a) already exists. b) already exists."]])), "D"))
      .toBe("Key (email)=([REDACTED]) already exists.");
  });

  it("23: a detail in no known template (another language, a new server) goes whole", () => {
    expect(field(scrub(server("23505", "doppelter Schlüsselwert", [["D", "Schlüssel »(email)=(alice@example.com)« existiert bereits."]])), "D"))
      .toBe(REDACTED_FIELD);
    expect(field(scrub(server("23502", 'null value in column "id" of relation "people" violates not-null constraint', [["t", "people"], ["c", "id"]])), "M"))
      .toBe('null value in column "id" of relation "people" violates not-null constraint');
  });

  it("42: names of the statement stay; a value the server quotes as a name (a regclass cast) goes", () => {
    const gone = '"[REDACTED]"';
    const cases: [code: string, message: string, statement: string | undefined, quoted: string][] = [
      ["42P01", 'relation "nosuch" does not exist', "select * from nosuch", '"nosuch"'],
      ["42P01", 'relation "myschema.NoSuch" does not exist', 'select * from MySchema."NoSuch"', '"myschema.NoSuch"'],
      ["42P01", 'relation "myschema.nosuch" does not exist', "select * from MySchema.NoSuch", '"myschema.nosuch"'],
      ["42P01", 'relation "other.nosuch" does not exist', "select * from nosuch", gone],
      ["42P01", 'relation "ada" does not exist', "select name::regclass from people", gone],
      // a whole word of the statement, not a piece of one
      ["42P01", 'relation "peo" does not exist', "select name::regclass from people", gone],
      ["42704", 'unrecognized configuration parameter "Ada"', "select current_setting(name) from people", gone],
      // no statement known: no name can be vouched for
      ["42P01", 'relation "nosuch" does not exist', undefined, gone],
    ];
    for (const [code, m, statement, quoted] of cases) {
      expect(field(scrub(server(code, m), COLUMNS, statement), "M"), m).toBe(m.replace(/".*"/, quoted));
    }
  });

  it("42601: the token a syntax error quotes stays when the statement has it; the position stays", () => {
    const out = scrub(server("42601", 'syntax error at or near "selec"', [["P", "1"]], "scanner_yyerror"), COLUMNS, "selec 1");
    expect(field(out, "M")).toBe('syntax error at or near "selec"');
    expect(field(out, "P")).toBe("1");
    expect(field(scrub(server("42601", 'syntax error at or near ")"'), COLUMNS, "select (1))"), "M")).toBe('syntax error at or near ")"');
    expect(field(scrub(server("42601", "syntax error at end of input"), COLUMNS, "select ("), "M")).toBe("syntax error at end of input");
  });

  it("42703: a hint naming what the statement does not is redacted, not dropped", () => {
    const hint = 'Perhaps you meant to reference the column "people.name".';
    expect(field(scrub(server("42703", 'column "nme" does not exist', [["H", hint]]), COLUMNS, "select nme from people"), "H"))
      .toBe('Perhaps you meant to reference the column "[REDACTED]".');
    expect(field(scrub(server("42703", 'column "nme" does not exist', [["H", hint]]), COLUMNS, "select nme, name from people"), "H")).toBe(hint);
  });

  it("names classes keep a detail by the quoted-names rule; others (40P01's query texts) lose it", () => {
    const cascade = "drop cascades to table people\ndrop cascades to function leak(text)";
    expect(field(scrub(server("00000", "drop cascades to 2 other objects", [["D", cascade]]), COLUMNS, "drop schema s cascade", "N"), "D")).toBe(cascade);
    const deadlock = "Process 1 waits for ShareLock on transaction 2; blocked by process 3.\nProcess 3: update people set ssn = '123-45-6789'";
    const out = scrub(server("40P01", "deadlock detected", [["D", deadlock], ["H", "See server log for query details."]]));
    expect(field(out, "D")).toBe(REDACTED_FIELD);
    expect(field(out, "H")).toBe("See server log for query details.");
    expect(field(scrub(server("XX000", "cache lookup failed for relation 16384")), "M")).toBe("cache lookup failed for relation [REDACTED]");
  });

  it("every class: numbers in the message, hint and a name class's detail go (a value printed as a number)", () => {
    // each as PostgreSQL 15 sends it for a masked value turned into a number
    const cases: [Fields, string][] = [
      [[["S", "WARNING"], ["V", "WARNING"], ["C", "01000"], ["M", "PID 123456789 is not a PostgreSQL backend process"], ["F", "signalfuncs.c"], ["L", "93"], ["R", "pg_signal_backend"]],
        "PID [REDACTED] is not a PostgreSQL backend process"],
      [server("54000", "requested character too large for encoding: 987654321", [], "chr"), "requested character too large for encoding: [REDACTED]"],
      [server("42704", "large object 123456789 does not exist", [], "inv_open"), "large object [REDACTED] does not exist"],
      [server("42P10", "ORDER BY position 5 is not in select list"), "ORDER BY position [REDACTED] is not in select list"],
      [server("00000", "drop cascades to 2 other objects"), "drop cascades to [REDACTED] other objects"],
    ];
    for (const [fields, want] of cases) expect(field(scrub(fields, COLUMNS, "select 1 order by 5"), "M")).toBe(want);
    const hinted = scrub(server("54001", "stack depth limit exceeded", [["H", 'Increase the configuration parameter "max_stack_depth" (currently 2048kB).']]), COLUMNS, "show max_stack_depth");
    expect(field(hinted, "H")).toBe('Increase the configuration parameter "max_stack_depth" (currently [REDACTED]kB).');
    const memory = scrub(server("53200", "out of memory", [["D", 'Failed on request of size 123456789 in memory context "ExecutorState".']]));
    expect(field(memory, "D")).toBe('Failed on request of size [REDACTED] in memory context "[REDACTED]".');
    const cascade = scrub(server("2BP01", "cannot drop table people because other objects depend on it", [["D", "view v2 depends on table people"]]));
    expect(field(cascade, "D")).toBe("view v2 depends on table people");
  });

  it("a number is whole: its exponent and a hexadecimal number's letters go with it; digits inside a word are not a number", () => {
    expect(field(scrub(server("XX000", "value 1.5e10 or 1e+308 or -2.5E-3 at 0xdeadbeef, bytes 0xe9 0x41")), "M"))
      .toBe("value [REDACTED] or [REDACTED] or [REDACTED] at [REDACTED], bytes [REDACTED]");
    expect(field(scrub(server("XX000", "encoding utf8 for int4"), COLUMNS, "select 1"), "M")).toBe("encoding utf8 for int4");
  });

  it("42883: a signature stays when each word is a name of the statement or a type's; a value printed as one goes", () => {
    const signature = (m: string, statement: string): string | undefined => field(scrub(server("42883", m), COLUMNS, statement), "M");
    expect(signature("function lower(integer) does not exist", "select lower(5)")).toBe("function lower(integer) does not exist");
    expect(signature("operator does not exist: integer ### integer", "select 1 ### 2")).toBe("operator does not exist: integer ### integer");
    // regoper, regprocedure: the text they were given, here a value spelled with letters
    expect(signature("operator does not exist: bcd-ef-ghij", "select translate(ssn, '0123456789', 'abcdefghij')::regoper from people"))
      .toBe("operator does not exist: [REDACTED]");
    expect(signature("function bcd_ef_ghij(integer) does not exist", "select (translate(ssn, '-0123456789', '_abcdefghij') || '(int)')::regprocedure from people"))
      .toBe("function [REDACTED] does not exist");
  });

  it("a name a parser refused is printed unquoted: it stays only when the statement has each of its words", () => {
    const name = (code: string, m: string, statement: string): string | undefined => field(scrub(server(code, m), COLUMNS, statement), "M");
    expect(name("42601", "improper relation name (too many dotted names): alice@example.com.a.b.c", "select (email || '.a.b.c')::regclass from people"))
      .toBe("improper relation name (too many dotted names): [REDACTED]");
    expect(name("42601", "improper qualified name (too many dotted names): bcdzefzghij.a.b.c", "select to_regtype(translate(ssn, '0123456789-', 'abcdefghijz') || '.a.b.c') from people"))
      .toBe("improper qualified name (too many dotted names): [REDACTED]");
    expect(name("0A000", "cross-database references are not implemented: alice.example.com", "select replace(email, '@', '.')::regproc from people"))
      .toBe("cross-database references are not implemented: [REDACTED]");
    expect(name("22023", "invalid normalization form: alice@example.com", "select normalize('x', email) from people"))
      .toBe("invalid normalization form: [REDACTED]");
    expect(name("0A000", "cross-database references are not implemented: otherdb.public.t", "select * from otherdb.public.t"))
      .toBe("cross-database references are not implemented: otherdb.public.t");
  });

  it("a comment or a string literal does not make a word known", () => {
    const missing = server("42P01", 'relation "x123" does not exist');
    expect(field(scrub(missing, COLUMNS, "select ('x' || substr(ssn, 1, 3))::regclass from people -- x122 x123 x124"), "M")).toBe('relation "[REDACTED]" does not exist');
    expect(field(scrub(missing, COLUMNS, "select ('x' || substr(ssn, 1, 3))::regclass from people, (values ('x123')) v"), "M")).toBe('relation "[REDACTED]" does not exist');
    expect(field(scrub(missing, COLUMNS, "select * from x123"), "M")).toBe('relation "x123" does not exist');
  });

  it("a quoted part kept as a name keeps its digits; numbers outside it still go", () => {
    expect(field(scrub(server("42P01", 'relation "2fa_codes" does not exist'), COLUMNS, 'select * from "2fa_codes"'), "M"))
      .toBe('relation "2fa_codes" does not exist');
    expect(field(scrub(server("22023", '5 is outside the valid range for parameter "x2" (0 .. 3)'), COLUMNS, "set x2 = 5"), "M"))
      .toBe('[REDACTED] is outside the valid range for parameter "x2" ([REDACTED] .. [REDACTED])');
    // an unknown quoted part takes the digits between the quotes with it
    expect(field(scrub(server("42P01", 'relation "123456789" does not exist 42'), COLUMNS, "select 1"), "M"))
      .toBe('relation "[REDACTED]" does not exist [REDACTED]');
  });

  it("internal query and context: the query goes (with both positions), lines that say where stay", () => {
    const out = scrub(server("42601", 'syntax error at or near "-"', [
      ["P", "8"], ["p", "11"], ["q", "select 123-45-6789 x"],
      ["W", 'SQL statement "select 123-45-6789 x"\nPL/pgSQL function dyn(text) line 1 at EXECUTE\nSQL function "outer" statement 1'],
    ]), COLUMNS, "select dyn(ssn) from people");
    expect(field(out, "q")).toBe(REDACTED_FIELD);
    expect(field(out, "p")).toBeUndefined();
    // with a context or an internal query the position may be in another text than the statement
    expect(field(out, "P")).toBeUndefined();
    expect(field(out, "W")).toBe(`${REDACTED_FIELD}\nPL/pgSQL function dyn(text) line 1 at EXECUTE\nSQL function "outer" statement 1`);
    expect(parsed(scrubMessage(message("E", out), COLUMNS))).toMatchObject({ position: undefined, internalQuery: REDACTED_FIELD });
  });

  it("the position stays only when it can only be a character of the client's statement", () => {
    const missing = (position: string, more: Fields = []): Fields => server("42P01", 'relation "nosuch" does not exist', [["P", position], ...more], "parserOpenTable");
    const statement = "select id from nosuch"; // 21 characters
    expect(field(scrub(missing("16"), COLUMNS, statement), "P")).toBe("16");
    expect(field(scrub(missing("1"), COLUMNS, statement), "P")).toBe("1");
    // one past the end: "syntax error at end of input"
    expect(field(scrub(server("42601", "syntax error at end of input", [["P", "9"]], "scanner_yyerror"), COLUMNS, "select ("), "P")).toBe("9");
    // past the end, zero, no statement known: not a position in the client's text
    expect(field(scrub(missing("23"), COLUMNS, statement), "P")).toBeUndefined();
    expect(field(scrub(missing("99999999999999999999999"), COLUMNS, statement), "P")).toBeUndefined();
    expect(field(scrub(missing("0"), COLUMNS, statement), "P")).toBeUndefined();
    expect(field(scrub(missing("16")), "P")).toBeUndefined();
    // the server counts characters: é, € and 😀 are one each (P 19 is the n of nosuch; 20 is one past the end of "select 'é€😀' from n")
    expect(field(scrub(missing("19"), COLUMNS, "select 'é€😀' from nosuch"), "P")).toBe("19");
    expect(field(scrub(missing("21"), COLUMNS, "select 'é€😀' from n"), "P")).toBeUndefined();
    expect(field(scrub(missing("20"), COLUMNS, "select 'é€😀' from n"), "P")).toBe("20");
    // a type name read from a value: the position is in the value, the context says so (PostgreSQL 15's fields)
    const regtype = scrub(server("42601", 'syntax error at or near "@"', [["P", "50"], ["W", `invalid type name "${"x".repeat(49)}@"`]], "scanner_yyerror"),
      COLUMNS, "select (repeat('x', ascii(substr(ssn, 1, 1))) || '@')::regtype from people where id = 1 /* padding so that 50 is within the text */");
    expect(field(regtype, "P")).toBeUndefined();
    // the "@" is inside a value: the statement holds it only in a string literal
    expect(field(regtype, "M")).toBe('syntax error at or near "[REDACTED]"');
    expect(field(regtype, "W")).toBe(REDACTED_FIELD);
    // a context line that says where keeps no position either; nor does a function's message
    expect(field(scrub(missing("16", [["W", "PL/pgSQL function f(text) line 3 at PERFORM"]]), COLUMNS, statement), "P")).toBeUndefined();
    expect(field(scrub([["S", "ERROR"], ["C", "22P02"], ["M", "x"], ["P", "3"]], COLUMNS, statement), "P")).toBeUndefined();
  });

  it("fields the protocol does not document are dropped; a position that is not a number is dropped", () => {
    const out = scrub([["S", "ERROR"], ["C", "42P01"], ["M", "x"], ["X", "123-45-6789"], ["P", "1a"], ["L", "7"], ["R", "r"]]);
    expect(out).toEqual([["S", "ERROR"], ["C", "42P01"], ["M", "x"], ["L", "7"], ["R", "r"]]);
  });
});

describe("column-mask sessions: messages from functions", () => {
  const raise: Fields = [
    ["S", "NOTICE"], ["V", "NOTICE"], ["C", "00000"], ["M", "value 123-45-6789"],
    ["W", "PL/pgSQL function leak(text) line 1 at RAISE"], ["F", "pl_exec.c"], ["L", "3907"], ["R", "exec_stmt_raise"],
  ];

  it("RAISE NOTICE: the message goes whole, where it ran stays", () => {
    expect(scrub(raise, COLUMNS, "select leak(ssn) from people", "N")).toEqual([
      ["S", "NOTICE"], ["V", "NOTICE"], ["C", "00000"], ["M", FUNCTION_OUTPUT],
      ["W", "PL/pgSQL function leak(text) line 1 at RAISE"], ["F", "pl_exec.c"], ["L", "3907"], ["R", "exec_stmt_raise"],
    ]);
  });

  it("RAISE EXCEPTION USING: detail, hint and the names it set go; a SQLSTATE of its choosing becomes P0001", () => {
    const out = scrub([
      ["S", "ERROR"], ["V", "ERROR"], ["C", "U1234"], ["M", "123-45-6789"], ["D", "123-45-6789"], ["H", "123-45-6789"],
      ["W", "PL/pgSQL function leak2(text) line 1 at RAISE"], ["c", "123-45-6789"], ["t", "123-45-6789"],
      ["F", "pl_exec.c"], ["L", "3907"], ["R", "exec_stmt_raise"],
    ]);
    expect(out.map(([c]) => c).join("")).toBe("SVCMWFLR");
    expect(field(out, "C")).toBe("P0001");
    expect(JSON.stringify(out)).not.toContain("6789");
  });

  it("ASSERT, other PL/pgSQL errors, PL/Python and PL/Perl output, and messages of unknown origin are function output", () => {
    const cases: Fields[] = [
      server("P0004", "secret 123-45-6789", [], "exec_stmt_assert"),
      server("P0002", "query returned no rows"),
      [["S", "NOTICE"], ["C", "00000"], ["M", "123-45-6789"], ["F", "plpy_plpymodule.c"], ["R", "PLy_output"]],
      [["S", "ERROR"], ["C", "XX000"], ["M", "123-45-6789 at line 2."], ["F", "plperl.c"], ["R", "plperl_call_handler"]],
      [["S", "ERROR"], ["C", "22P02"], ["M", "123-45-6789"]],
      [["S", "ERROR"], ["C", "2-P02"], ["M", "123-45-6789"], ["R", "r"]],
      [["S", "ERROR"], ["M", "123-45-6789"], ["R", "r"]],
    ];
    for (const fields of cases) expect(field(scrub(fields), "M")).toBe(FUNCTION_OUTPUT);
    expect(field(scrub(cases[5]!), "C")).toBe("XX000");
  });

  it("a server notice quoting a name of the statement is not function output", () => {
    const notice: Fields = [["S", "NOTICE"], ["V", "NOTICE"], ["C", "00000"], ["M", 'table "nothere" does not exist, skipping'], ["F", "tablecmds.c"], ["R", "DropErrorMsgNonExistent"]];
    expect(field(scrub(notice, COLUMNS, "drop table if exists nothere", "N"), "M")).toBe('table "nothere" does not exist, skipping');
  });
});

describe("detectors in message fields", () => {
  it("replace what they find in every field, as in rows, also in a function's message when the session has only detectors", () => {
    const options = detecting([["email", REDACT], ["us_ssn", REDACT]]);
    const out = scrub([
      ["S", "NOTICE"], ["C", "00000"], ["M", "value alice@example.com and 123-45-6789"], ["D", "ssn 123-45-6789"],
      ["W", "PL/pgSQL function leak(text) line 1 at RAISE"], ["c", "bob@example.org"], ["F", "pl_exec.c"], ["R", "exec_stmt_raise"],
    ], options, undefined, "N");
    expect(field(out, "M")).toBe("value [REDACTED] and [REDACTED]");
    expect(field(out, "D")).toBe("ssn [REDACTED]");
    expect(field(out, "c")).toBe("[REDACTED]");
    expect(field(out, "W")).toBe("PL/pgSQL function leak(text) line 1 at RAISE");
  });

  it("hash and partial strategies apply; null replaces the whole field; nothing found leaves the bytes as they were", () => {
    const hashed = scrub(server("23505", "dup", [["D", "Key (email)=(alice@example.com) already exists."]]), detecting([["email", { kind: "hash" }]]));
    expect(field(hashed, "D")).toMatch(/^Key \(email\)=\(hash:[0-9a-f]{16}\) already exists\.$/);
    const partial = scrub(server("22P02", 'bad "4111 1111 1111 1111"'), detecting([["credit_card", { kind: "partial", keep: 4 }]]));
    expect(field(partial, "M")).toMatch(/^bad "\*{15}1111"$/);
    const nulled = scrub(server("22P02", 'bad "alice@example.com"'), detecting([["email", { kind: "null" }]]));
    expect(field(nulled, "M")).toBe(REDACTED_FIELD);
    const clean = message("E", server("42P01", 'relation "x" does not exist', [["P", "15"]]));
    expect(scrubMessage(clean, detecting([["email", REDACT]]))).toEqual(clean);
  });

  it("run after the column rules: what those keep is still scanned", () => {
    const out = scrub(server("42P01", 'relation "alice@example.com" does not exist'), detecting([["email", REDACT]], true), 'select * from "alice@example.com"');
    expect(field(out, "M")).toBe('relation "[REDACTED]" does not exist');
  });
});

describe("malformed messages", () => {
  const good = message("E", server("22P02", 'invalid input syntax for type integer: "123-45-6789"'));

  it("become one well-formed message of the same type that says so, without a crash", () => {
    const broken: Buffer[] = [
      good.subarray(0, good.length - 1), // no final NUL
      Buffer.concat([good, Buffer.from([0x41])]), // a byte after the end
      message("N", [["M", "x"]]).subarray(0, 8), // a field cut before its NUL
      Buffer.from([0x45, 0, 0, 0, 4]), // no body at all
      Buffer.from([0x4e, 0, 0, 0, 99, 0x4d, 0x78, 0, 0]), // a length that is not the message's
    ];
    for (const frame of broken) {
      for (const options of [COLUMNS, detecting([["us_ssn", REDACT]]), detecting([["us_ssn", REDACT]], true)]) {
        const out = scrubMessage(frame, options, "select 1");
        expect(out[0]).toBe(frame[0]);
        expect(parsed(out)).toMatchObject({ message: MALFORMED, code: frame[0] === 0x45 ? "XX000" : "00000" });
      }
    }
  });

  it("random damage to a message never throws and never comes out unparsable", () => {
    const random = seededRandom(20240617);
    const options = detecting([["us_ssn", REDACT], ["email", REDACT]], true);
    for (let i = 0; i < 2000; i++) {
      const frame = Buffer.from(good);
      for (let k = 0; k < 1 + Math.floor(random() * 4); k++) frame[5 + Math.floor(random() * (frame.length - 5))] = Math.floor(random() * 256);
      const cut = random() < 0.3 ? frame.subarray(0, 5 + Math.floor(random() * (frame.length - 5))) : frame;
      parsed(scrubMessage(cut, options, "select ssn::int from people"));
    }
  });
});

describe("notifications", () => {
  const notification = (pid: number, channel: string, payload: string): Buffer => {
    const body = Buffer.from(`${channel}\0${payload}\0`, "utf8");
    const head = Buffer.alloc(9);
    head[0] = 0x41;
    head.writeInt32BE(8 + body.length, 1);
    head.writeInt32BE(pid, 5);
    return Buffer.concat([head, body]);
  };
  const read = (frame: Buffer): Record<string, unknown> => {
    const messages: Record<string, unknown>[] = [];
    new Parser().parse(frame, (m) => messages.push(m as unknown as Record<string, unknown>));
    expect(messages).toHaveLength(1);
    return messages[0]!;
  };

  it("with column masks the payload goes whole; the pid and the channel the client listens on stay", () => {
    expect(read(scrubNotification(notification(4242, "jobs", "ssn 123-45-6789"), COLUMNS)))
      .toMatchObject({ name: "notification", processId: 4242, channel: "jobs", payload: NOTIFICATION_PAYLOAD });
  });

  it("with detectors only, they run over the payload; a payload with nothing found is the same message", () => {
    const options = detecting([["us_ssn", REDACT]]);
    expect(read(scrubNotification(notification(7, "jobs", "ssn 123-45-6789"), options))).toMatchObject({ channel: "jobs", payload: "ssn [REDACTED]" });
    const clean = notification(7, "jobs", "nothing here");
    expect(scrubNotification(clean, options)).toBe(clean);
    expect(read(scrubNotification(notification(7, "jobs", "123-45-6789"), detecting([["us_ssn", { kind: "null" }]])))).toMatchObject({ payload: REDACTED_FIELD });
  });

  it("a malformed notification becomes a well-formed one that says so", () => {
    const good = notification(7, "jobs", "ssn 123-45-6789");
    for (const frame of [good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.from([0])]), good.subarray(0, 10), Buffer.from([0x41, 0, 0, 0, 4])]) {
      for (const options of [COLUMNS, detecting([["us_ssn", REDACT]])]) {
        const out = read(scrubNotification(frame, options));
        expect(out).toMatchObject({ name: "notification", channel: "", payload: MALFORMED });
      }
    }
  });
});

describe("parameter status", () => {
  const status = (name: string, value: string): Buffer => {
    const body = Buffer.from(`${name}\0${value}\0`, "utf8");
    const head = Buffer.alloc(5);
    head[0] = 0x53;
    head.writeInt32BE(4 + body.length, 1);
    return Buffer.concat([head, body]);
  };
  const read = (frame: Buffer): Record<string, unknown> => {
    const messages: Record<string, unknown>[] = [];
    new Parser().parse(frame, (m) => messages.push(m as unknown as Record<string, unknown>));
    expect(messages).toHaveLength(1);
    expect(messages[0]!.name).toBe("parameterStatus");
    return messages[0]!;
  };

  it("with column masks a parameter a statement can set goes whole; the protocol's own pass as they are", () => {
    expect(read(scrubParameterStatus(status("application_name", "ada@example.com 123-45-6789"), COLUMNS)))
      .toMatchObject({ parameterName: "application_name", parameterValue: PARAMETER_VALUE });
    expect(read(scrubParameterStatus(status("my.custom", "x"), COLUMNS))).toMatchObject({ parameterName: "my.custom", parameterValue: PARAMETER_VALUE });
    for (const [name, value] of [["TimeZone", "Europe/Paris"], ["DateStyle", "ISO, MDY"], ["client_encoding", "UTF8"], ["is_superuser", "on"]]) {
      const frame = status(name!, value!);
      expect(scrubParameterStatus(frame, COLUMNS)).toBe(frame);
    }
  });

  it("the detectors run over every value, the protocol's own too; a value with nothing found is the same message", () => {
    const options = detecting([["us_ssn", REDACT]]);
    expect(read(scrubParameterStatus(status("application_name", "ssn 123-45-6789"), options))).toMatchObject({ parameterValue: "ssn [REDACTED]" });
    expect(read(scrubParameterStatus(status("session_authorization", "123-45-6789"), detecting([["us_ssn", { kind: "null" }]], true))))
      .toMatchObject({ parameterName: "session_authorization", parameterValue: REDACTED_FIELD });
    const clean = status("application_name", "nightly-report");
    expect(scrubParameterStatus(clean, options)).toBe(clean);
  });

  it("a malformed one keeps its name at most", () => {
    const good = status("application_name", "123-45-6789");
    for (const frame of [good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.from([0])]), Buffer.from([0x53, 0, 0, 0, 4])]) {
      for (const options of [COLUMNS, detecting([["us_ssn", REDACT]])]) {
        const out = scrubParameterStatus(frame, options);
        expect(out.toString()).not.toMatch(/123-45-6789/);
        expect(read(out)).toMatchObject({ parameterValue: MALFORMED });
      }
    }
  });
});

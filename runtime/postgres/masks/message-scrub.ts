// The upstream's ErrorResponse and NoticeResponse in a session with masks (docs/masking.md,
// "Messages"). The server quotes values in its messages (`invalid input syntax for type integer:
// "123-45-6789"`, `Key (email)=(…) already exists.`) and a function says what it likes (`RAISE
// NOTICE '%', ssn`); nothing in a message ties a value to a column. So, with column masks, every
// part of a message that can carry a value goes unless it is known to be a name, and the session's
// detectors run over every field, as over a row's values. Notifications and ParameterStatus
// values, which a statement can fill with a masked value too, are scrubbed alike. Pure: frame in,
// frame out, never throws.

import type { SessionMasks } from "../../engine/types.js";
import type { RowMasking } from "../context.js";
import { statementWords } from "../../facts/sql/words.js";
import { decodeFieldList, type ErrorField as Field } from "../messages.js";

/** one value's bytes in; the masked bytes, null when the whole value goes, undefined when nothing was found */
export type ValueDetector = (value: Buffer) => Buffer | null | undefined;

export interface ScrubOptions {
  /** the session has column masks */
  columns: boolean;
  /** the session's detectors; absent when it has none */
  detect?: ValueDetector;
}

const ERROR = 0x45;
export const REDACTED_VALUE = "[REDACTED]";
export const REDACTED_FIELD = "[REDACTED by hoopgate]";
export const FUNCTION_OUTPUT = "[REDACTED by hoopgate: message from a function in a session with masks]";
export const MALFORMED = "[REDACTED by hoopgate: malformed message from the server]";
export const NOTIFICATION_PAYLOAD = "[REDACTED by hoopgate: notification payload in a session with masks]";
export const PARAMETER_VALUE = "[REDACTED by hoopgate: parameter value in a session with masks]";

/**
 * Parameters whose ParameterStatus the protocol and the drivers read (encodings, date and
 * interval styles, the time zone, the role, the server's state): passed as they are, since a
 * client cannot work with a replaced value, and the server accepts only values of their own
 * shapes for them (the lexer guard checks client_encoding and standard_conforming_strings).
 */
const PROTOCOL_PARAMETERS: ReadonlySet<string> = new Set([
  "server_version", "server_encoding", "client_encoding", "DateStyle", "IntervalStyle", "TimeZone", "integer_datetimes",
  "standard_conforming_strings", "is_superuser", "session_authorization", "in_hot_standby", "default_transaction_read_only",
  "scram_iterations",
]);

/** the fields the protocol documents (53.8); any other may carry anything and is dropped */
const KNOWN = new Set("SVCMDHPpqWstcdnFLR");
/** fields whose value is a decimal number: anything else in them is dropped */
const NUMERIC = new Set("PpL");
/** schema, table, column, data type and constraint names: the catalog's, set by the server */
const NAMES = "stcdn";

/**
 * SQLSTATE classes whose details print names (relations, columns, parameters, files, statement
 * tokens) and numbers, no other value unquoted: their detail is read like the message. A
 * class not listed (22 data exception, 40 transaction rollback, XX internal, 2F/38/39 routine
 * exceptions, HV, any unknown one) is taken to print values unquoted: its detail goes whole.
 * The message and hint lose their numbers in every class: a name-class message prints values as
 * numbers too (`PID 123456789 is not a PostgreSQL backend process`, `large object 123456789 does
 * not exist`, `requested character too large for encoding: 123456789`).
 */
const NAME_CLASSES = new Set([
  "00", "01", "02", "03", "08", "09", "0A", "0B", "0F", "0L", "0P", "0Z", "20", "21", "23", "24", "25", "26",
  "27", "28", "2B", "2D", "34", "3B", "3D", "3F", "42", "44", "53", "54", "55", "57", "58", "72", "F0",
]);
/** integrity and check-option violations print the row or key unquoted: their detail is kept only as a known template */
const ROW_DETAIL_CLASSES = new Set(["23", "44"]);

/** PL/pgSQL's RAISE and ASSERT, and the procedural languages' own source files */
const FUNCTION_ROUTINES = new Set(["exec_stmt_raise", "exec_stmt_assert"]);
const FUNCTION_FILE = /^(pl_|plpy|plperl|pltcl)/;
/** SQLSTATEs a RAISE uses unless told otherwise: any other chosen by a function would be a channel */
const FUNCTION_CODES = new Set(["00000", "01000", "P0001", "P0004"]);

/** the server's details that quote a key or row: [template, rebuilt with its values redacted] */
const ROW_DETAILS: readonly [RegExp, (m: RegExpExecArray) => string][] = [
  [/^Key \((.+?)\)=\((.*)\) (already exists|is duplicated)\.$/s, (m) => `Key (${m[1]})=(${REDACTED_VALUE}) ${m[3]}.`],
  [/^Key \((.+?)\)=\((.*)\) (is not present in|is still referenced from) table "([^"]*)"\.$/s,
    (m) => `Key (${m[1]})=(${REDACTED_VALUE}) ${m[3]} table "${m[4]}".`],
  [/^Key \((.+?)\)=\((.*)\) conflicts with (existing )?key \(\1\)=\((.*)\)\.$/s,
    (m) => `Key (${m[1]})=(${REDACTED_VALUE}) conflicts with ${m[3] ?? ""}key (${m[1]})=(${REDACTED_VALUE}).`],
  [/^Failing row contains \((.*)\)\.$/s, () => `Failing row contains (${REDACTED_VALUE}).`],
  [/^Partition key of the failing row contains \((.+?)\) = \((.*)\)\.$/s,
    (m) => `Partition key of the failing row contains (${m[1]}) = (${REDACTED_VALUE}).`],
];

/** context lines that name where the error happened and quote nothing */
const CONTEXT_LINES = [/^PL\/pgSQL function [^\n]+$/, /^SQL function "[^"\n]*" (statement \d+|during startup|during inlining)$/];

/** byte sequences (`0xe9 0x41`) and hexadecimal numbers (`0xdeadbeef`) */
const HEX = /0x[0-9a-fA-F]+(?: 0x[0-9a-fA-F]+)*/g;
/** decimal numbers, dates, times and exponents (`-12`, `2024-13-01`, `1.5e10`) not glued to a word */
const NUMBERS = /(?<![\p{L}\p{N}_$])-?\d(?:[\d.,:/-]*\d)?(?:[eE][-+]?\d+)?/gu;
/**
 * Messages that print what they were given unquoted: the signature of 42883/42725 (`function
 * f(integer) does not exist`), and the name parsers' errors (`improper relation name (too many
 * dotted names): …`, `cross-database references are not implemented: …`, `invalid
 * normalization form: …`) — `(email || '.a.b.c')::regclass` printed the value. Head, what was
 * given, tail.
 */
const UNQUOTED_PAYLOADS: readonly { codes: ReadonlySet<string>; template: RegExp }[] = [
  { codes: new Set(["42883", "42725"]), template: /^(function |procedure |operator does not exist: |operator is not unique: )(.+?)( does not exist| is not unique)?$/s },
  { codes: new Set(["42601"]), template: /^(improper (?:relation|qualified) name \(too many dotted names\): )(.+)()$/s },
  { codes: new Set(["0A000"]), template: /^(cross-database references are not implemented: )(.+)()$/s },
  { codes: new Set(["22023"]), template: /^(invalid normalization form: )(.+)()$/s },
];
const PAYLOAD_WORD = /[\p{L}_][\p{L}\p{N}_$]*/gu;
/** the words of the server's names for builtin types, as format_type prints them in a signature */
const TYPE_WORDS: ReadonlySet<string> = new Set([
  "unknown", "integer", "bigint", "smallint", "numeric", "real", "double", "precision", "boolean", "text", "character", "varying",
  "char", "name", "bytea", "date", "time", "timestamp", "with", "without", "zone", "interval", "json", "jsonb", "xml", "uuid",
  "inet", "cidr", "macaddr", "macaddr8", "money", "oid", "regclass", "regtype", "regproc", "regprocedure", "regoper", "regoperator",
  "record", "void", "anyelement", "anyarray", "anynonarray", "anyenum", "anyrange", "point", "line", "lseg", "box", "path", "polygon",
  "circle", "bit", "tsvector", "tsquery", "int4range", "int8range", "numrange", "daterange", "tsrange", "tstzrange", "cstring",
  "pg_catalog", "none",
]);

/**
 * An upstream 'E' or 'N' message as the client may see it. `statement`: the text of the
 * statement it answers, when known (its words are names the client already has).
 */
export function scrubMessage(frame: Buffer, options: ScrubOptions, statement?: string): Buffer {
  const type = frame[0] ?? ERROR;
  return encodeFields(type, scrubFields(type, decodeFieldList(frame), options, statement));
}

/** scrubMessage on the fields of a message of `type` already decoded (null: it is malformed) */
export function scrubFields(type: number, decoded: readonly Field[] | null, options: ScrubOptions, statement?: string): Field[] {
  if (decoded === null) {
    const notice = type !== ERROR;
    return [["S", notice ? "NOTICE" : "ERROR"], ["V", notice ? "NOTICE" : "ERROR"], ["C", notice ? "00000" : "XX000"], ["M", MALFORMED]];
  }
  let fields = decoded.filter(([code, value]) => KNOWN.has(code) && (!NUMERIC.has(code) || /^\d+$/.test(value)));
  if (options.columns) fields = redactValues(fields, type === ERROR, statement);
  if (options.detect !== undefined) fields = detectIn(fields, options.detect);
  return fields;
}

/**
 * An upstream NotificationResponse ('A': backend pid, channel, payload) as the client may see it.
 * Any session's function can `pg_notify` a masked value to a channel this session listens on: with
 * column masks the payload goes whole (nothing ties it to a column), with detectors only they run
 * over it. The channel stays: the server delivers only channels the client itself chose to LISTEN
 * on. A malformed notification keeps nothing but its header's pid.
 */
export function scrubNotification(frame: Buffer, options: ScrubOptions): Buffer {
  const channelEnd = frame.length >= 11 && frame.readInt32BE(1) === frame.length - 1 ? frame.indexOf(0, 9) : -1;
  const payloadEnd = channelEnd < 0 ? -1 : frame.indexOf(0, channelEnd + 1);
  if (payloadEnd !== frame.length - 1) return notification(frame.length >= 9 ? frame.readInt32BE(5) : 0, Buffer.alloc(0), Buffer.from(MALFORMED));
  const channel = frame.subarray(9, channelEnd);
  if (options.columns) return notification(frame.readInt32BE(5), channel, Buffer.from(NOTIFICATION_PAYLOAD));
  const masked = options.detect?.(frame.subarray(channelEnd + 1, payloadEnd));
  if (masked === undefined) return frame;
  return notification(frame.readInt32BE(5), channel, masked ?? Buffer.from(REDACTED_FIELD));
}

/**
 * An upstream ParameterStatus ('S': name, value) as the client may see it. A statement can set
 * a reported parameter to a computed value (`set_config('application_name', ssn, false)`, in a
 * function too) and the server reports it before the next ReadyForQuery: with column masks the
 * value of any parameter but the protocol's own is replaced; the detectors run over every value.
 * A malformed message keeps nothing (the lexer guard has read it already).
 */
export function scrubParameterStatus(frame: Buffer, options: ScrubOptions): Buffer {
  const nameEnd = frame.length >= 7 && frame.readInt32BE(1) === frame.length - 1 ? frame.indexOf(0, 5) : -1;
  const valueEnd = nameEnd < 0 ? -1 : frame.indexOf(0, nameEnd + 1);
  const name = frame.subarray(5, Math.max(nameEnd, 5));
  if (valueEnd !== frame.length - 1) return parameterStatus(name, Buffer.from(MALFORMED));
  if (options.columns && !PROTOCOL_PARAMETERS.has(name.toString("utf8"))) return parameterStatus(name, Buffer.from(PARAMETER_VALUE));
  const masked = options.detect?.(frame.subarray(nameEnd + 1, valueEnd));
  if (masked === undefined) return frame;
  return parameterStatus(name, masked ?? Buffer.from(REDACTED_FIELD));
}

/** zone names as PostgreSQL reports them: its tz database's, which Node's ICU knows, and a few aliases */
const ZONE_NAMES: ReadonlySet<string> = new Set([...Intl.supportedValuesOf("timeZone"), "UTC", "GMT", "Etc/UTC", "Etc/GMT", "Z", "localtime", "posixrules"]);
/** `SET TIME ZONE 5` or `INTERVAL '+05:30'` is reported as `<+05>-05`, `<+05:30>-05:30`; Etc/GMT±N */
const FIXED_OFFSET = /^(?:<[+-]\d{2}(?::\d{2})?>[+-]\d{2}(?::\d{2})?|Etc\/GMT[+-]\d{1,2})$/;

/**
 * What the client cannot be sent as is in a session with column masks, for a parameter the
 * protocol's drivers read (kept verbatim otherwise): a TimeZone that is neither a zone's name nor
 * a fixed offset. POSIX zone specifications (`<…>N`, `ABC3`) take letters, digits and signs, so
 * code the gateway cannot see (`set_config('TimeZone', …)` in a function) could report a value
 * spelled as one, and drivers need the real zone to read timestamps: the session ends instead.
 */
export function parameterValueProblem(frame: Buffer, options: ScrubOptions): string | undefined {
  if (!options.columns) return undefined;
  const nameEnd = frame.indexOf(0, 5);
  if (nameEnd < 0 || frame.toString("utf8", 5, nameEnd) !== "TimeZone") return undefined;
  const value = frame.toString("utf8", nameEnd + 1, Math.max(nameEnd + 1, frame.length - 1));
  if (ZONE_NAMES.has(value) || FIXED_OFFSET.test(value)) return undefined;
  return "the server reported a TimeZone that is neither a zone's name nor a fixed offset, which in a session with column masks could carry a value";
}

function parameterStatus(name: Buffer, value: Buffer): Buffer {
  const out = Buffer.allocUnsafe(7 + name.length + value.length);
  out[0] = 0x53;
  out.writeInt32BE(out.length - 1, 1);
  name.copy(out, 5);
  out[5 + name.length] = 0;
  value.copy(out, 6 + name.length);
  out[out.length - 1] = 0;
  return out;
}

function notification(pid: number, channel: Buffer, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(11 + channel.length + payload.length);
  out[0] = 0x41;
  out.writeInt32BE(out.length - 1, 1);
  out.writeInt32BE(pid, 5);
  channel.copy(out, 9);
  out[9 + channel.length] = 0;
  payload.copy(out, 10 + channel.length);
  out[out.length - 1] = 0;
  return out;
}

/** the session's detectors over one text value, through the masking port (a one-column text result) */
export function valueDetector(masking: RowMasking, detectors: SessionMasks["detectors"]): ValueDetector | undefined {
  if (detectors.size === 0) return undefined;
  let plan: ReturnType<RowMasking["planRows"]> | undefined;
  return (value) => {
    plan ??= masking.planRows([{ strategy: null, format: 0, typeOid: 25 }], detectors);
    if (plan === null) return undefined;
    const row = Buffer.allocUnsafe(11 + value.length);
    row[0] = 0x44;
    row.writeInt32BE(10 + value.length, 1);
    row.writeInt16BE(1, 5);
    row.writeInt32BE(value.length, 7);
    value.copy(row, 11);
    const masked = plan.maskDataRow(row);
    if (masked === row) return undefined;
    const length = masked.readInt32BE(7);
    return length < 0 ? null : masked.subarray(11, 11 + length);
  };
}

/** an ErrorResponse/NoticeResponse (`type`) of these fields */
export function encodeFields(type: number, fields: readonly Field[]): Buffer {
  const body = Buffer.from(fields.map(([code, value]) => `${code}${value}\0`).join("") + "\0", "utf8");
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

function redactValues(fields: Field[], error: boolean, statement: string | undefined): Field[] {
  const code = fields.find(([c]) => c === "C")?.[1];
  const routine = fields.find(([c]) => c === "R")?.[1];
  const file = fields.find(([c]) => c === "F")?.[1] ?? "";
  const valid = code !== undefined && /^[0-9A-Z]{5}$/.test(code);
  if (!valid || routine === undefined || FUNCTION_ROUTINES.has(routine) || FUNCTION_FILE.test(file) || code.startsWith("P0")) {
    return functionOutput(fields, valid && FUNCTION_CODES.has(code) ? code : error ? (valid ? "P0001" : "XX000") : "00000");
  }
  const known = knownNames(fields, statement);
  // with a context or an internal query, the position may be in another text (positionInStatement)
  const elsewhere = statement === undefined || fields.some(([c]) => c === "W" || c === "q");
  const cls = code.slice(0, 2);
  const wholeDetail = !NAME_CLASSES.has(cls) || ROW_DETAIL_CLASSES.has(cls);
  const out: Field[] = [];
  for (const [c, value] of fields) {
    switch (c) {
      case "M":
        out.push([c, redactQuoted(redactPayload(code, value, known), known)]);
        break;
      case "H":
        out.push([c, redactQuoted(value, known)]);
        break;
      case "D":
        out.push([c, rowDetail(value) ?? (wholeDetail ? REDACTED_FIELD : redactQuoted(value, known))]);
        break;
      case "W":
        out.push([c, redactContext(value)]);
        break;
      case "q":
        out.push([c, REDACTED_FIELD]);
        break;
      case "p":
        break; // a position in the internal query, which is gone
      case "P":
        if (!elsewhere && positionInStatement(value, statement!)) out.push([c, value]);
        break;
      default:
        out.push([c, value]);
    }
  }
  return out;
}

/**
 * The position (P) is a character of the text the server parsed: 1 for the first, one past the
 * last for "at end of input". That text is the client's statement only when the message has no
 * context and no internal query: the server also parses values (a type name read by `regtype`,
 * `to_regtype`, the argument types of `regprocedure` and `regoperator`) and points into them,
 * with a context line `invalid type name "…"` — `(repeat('x', ascii(ssn)) || '@')::regtype`
 * gave a value's character as its position. A position past the statement's end cannot be in it
 * either.
 */
function positionInStatement(position: string, statement: string): boolean {
  const at = Number(position);
  return at >= 1 && at <= characters(statement) + 1;
}

/** the server counts characters, not UTF-16 code units: a surrogate pair is one */
function characters(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n -= 1;
        i += 1;
      }
    }
  }
  return n;
}

/** a function chose every word, and the names in s/t/c/d/n: only where it ran is kept (no position: a function parses no text of the client's) */
function functionOutput(fields: Field[], code: string): Field[] {
  const out: Field[] = [];
  for (const [c, value] of fields) {
    if (c === "C") out.push([c, code]);
    else if (c === "M") out.push([c, FUNCTION_OUTPUT]);
    else if (c === "W") out.push([c, redactContext(value)]);
    else if (c === "q") out.push([c, REDACTED_FIELD]);
    else if (!"DHPp".includes(c) && !NAMES.includes(c)) out.push([c, value]);
  }
  return out;
}

/**
 * The names a message may quote: its own name fields, and the statement's identifiers and
 * keywords as the server's scanner reads them (not its comments or string literals: a comment
 * listing candidate values would let the message confirm one). Read once per message, and only
 * when the message quotes something.
 */
function knownNames(fields: Field[], statement: string | undefined): (quoted: string) => boolean {
  const names = new Set(fields.filter(([c]) => NAMES.includes(c)).map(([, v]) => v));
  let words: ReadonlySet<string> | undefined;
  const inStatement = (part: string): boolean => {
    words ??= statement === undefined ? new Set() : statementWords(statement);
    return words.has(part) || words.has(part.toLowerCase());
  };
  const one = (part: string): boolean => part !== "" && (names.has(part) || inStatement(part));
  return (quoted) => one(quoted) || (quoted.includes(".") && quoted.split(".").every(one));
}

/**
 * What a message of UNQUOTED_PAYLOADS printed unquoted — a signature, where `regprocedure`,
 * `regoper` and `regoperator` put the text they were given (`translate(ssn, '0123456789',
 * 'abcdefghij')::regoper` showed the value as letters), or a name a parser refused — stays when
 * each of its words is a name of the statement or a type's name; else it goes.
 */
function redactPayload(code: string, message: string, known: (word: string) => boolean): string {
  for (const { codes, template } of UNQUOTED_PAYLOADS) {
    const m = codes.has(code) ? template.exec(message) : null;
    if (m === null) continue;
    const [, head, payload, tail] = m;
    const words = payload!.match(PAYLOAD_WORD) ?? [];
    return words.every((w) => TYPE_WORDS.has(w.toLowerCase()) || known(w)) ? message : `${head}${REDACTED_VALUE}${tail ?? ""}`;
  }
  return message;
}

/**
 * Quoted parts: all kept when each is a known name, else everything from the first quote to the
 * last becomes one `"[REDACTED]"` (a value holding a quote cannot split it and show its middle).
 * Outside the quoted parts, numbers and byte sequences (`0xe9 0x41`) go; a kept quoted part is a
 * name and keeps its digits (`relation "2fa_codes"`).
 */
function redactQuoted(text: string, known: (quoted: string) => boolean): string {
  const quoted: [open: number, close: number][] = [];
  let unknown = false;
  for (let at = 0; at < text.length; ) {
    const quote = text[at];
    if (quote !== '"' && quote !== "'") {
      at += 1;
      continue;
    }
    const close = text.indexOf(quote, at + 1);
    if (close < 0) {
      unknown = true;
      quoted.push([at, text.length - 1]);
      break;
    }
    if (!known(text.slice(at + 1, close))) unknown = true;
    quoted.push([at, close]);
    at = close + 1;
  }
  if (quoted.length === 0) return unquoted(text);
  if (unknown) return `${unquoted(text.slice(0, quoted[0]![0]))}"${REDACTED_VALUE}"${unquoted(text.slice(quoted[quoted.length - 1]![1] + 1))}`;
  let out = "";
  let at = 0;
  for (const [open, close] of quoted) {
    out += unquoted(text.slice(at, open)) + text.slice(open, close + 1);
    at = close + 1;
  }
  return out + unquoted(text.slice(at));
}

/** text outside quotes: every number and byte sequence goes */
function unquoted(text: string): string {
  return text.replace(HEX, REDACTED_VALUE).replace(NUMBERS, REDACTED_VALUE);
}

function rowDetail(detail: string): string | undefined {
  for (const [template, rebuild] of ROW_DETAILS) {
    const m = template.exec(detail);
    if (m !== null) return rebuild(m);
  }
  return undefined;
}

function redactContext(context: string): string {
  return context.split("\n").map((line) => (CONTEXT_LINES.some((r) => r.test(line)) ? line : REDACTED_FIELD)).join("\n");
}

/** every field but the numbers through the detectors; a field whose whole value goes is replaced */
function detectIn(fields: Field[], detect: ValueDetector): Field[] {
  return fields.map(([code, value]) => {
    if (NUMERIC.has(code)) return [code, value];
    const masked = detect(Buffer.from(value, "utf8"));
    if (masked === undefined) return [code, value];
    return [code, masked === null ? REDACTED_FIELD : masked.toString("utf8")];
  });
}

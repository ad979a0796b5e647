// What the masker needs to know about PostgreSQL type OIDs (pg_type.h, stable across
// versions). Built-in types are below FirstNormalObjectId (16384); user-defined types
// (enums, domains, citext, composites) are above it and reach clients as plain strings.

const FIRST_USER_OID = 16384;

/** Built-in types whose text form is free text: a replacement string is still a valid value. */
const STRING_TYPES = new Set([
  18, // char
  19, // name
  25, // text
  705, // unknown
  1042, // bpchar
  1043, // varchar
]);

/**
 * Built-in types whose text form cannot hold anything a detector looks for (no `@`, at most
 * 10 digits, or a fixed date/uuid/address syntax), so detectors skip them. float8 is not among
 * them: it prints up to 17 significant digits, a card number's length.
 */
const UNDETECTABLE_TYPES = new Set([
  16, // bool
  21, // int2
  23, // int4
  26, // oid
  650, // cidr
  700, // float4 (at most 9 significant digits)
  790, // money
  829, // macaddr
  869, // inet
  1082, // date
  1083, // time
  1114, // timestamp
  1184, // timestamptz
  1186, // interval
  1266, // timetz
  2950, // uuid
]);

/**
 * A value of this type may be replaced by text such as `[REDACTED]`. Other built-in types
 * (numbers, dates, json, arrays, bytea…) are parsed by client drivers, so a replacement
 * there would break the client: those values become NULL instead.
 */
export function isStringType(oid: number): boolean {
  return STRING_TYPES.has(oid) || oid >= FIRST_USER_OID;
}

export function mayHoldDetectable(oid: number): boolean {
  return !UNDETECTABLE_TYPES.has(oid);
}

/**
 * How detectors read a value of a type that `mayHoldDetectable`, sent in binary format:
 * `string`, the raw text (a replacement is still valid); `raw`, bytes to scan as they are
 * (json, xml: their text; bytea: its bytes); `jsonb`, a version byte then the text; `int8`,
 * `numeric` and `float8`, decoded to their decimal text; `unreadable`, a form the gateway does not
 * decode (arrays, records, ranges, geometric and user-defined types…).
 */
export type BinaryForm = "string" | "raw" | "jsonb" | "int8" | "numeric" | "float8" | "unreadable";

export function binaryForm(oid: number): BinaryForm {
  if (STRING_TYPES.has(oid)) return "string";
  switch (oid) {
    case 17: // bytea
    case 114: // json
    case 142: // xml
      return "raw";
    case 3802: return "jsonb";
    case 20: return "int8";
    case 1700: return "numeric";
    case 701: return "float8";
    default: return "unreadable";
  }
}

/**
 * bytea and bytea[] in text format: printed as hex (`\x6164…`, inside an array `"\\x6164…"`)
 * under the default `bytea_output`, so what detectors look for is only there once decoded.
 */
export function isByteaText(oid: number): boolean {
  return oid === 17 || oid === 1001;
}

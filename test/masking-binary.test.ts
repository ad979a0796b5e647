// Detectors over binary-format result columns (runtime/masking/plan.ts, decimal-text.ts): each
// binary form the gateway can read is scanned, everything else is withheld. The int8 and numeric
// decoders are checked against PostgreSQL's own text output.

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeDataRow } from "../bench/pg-rows.js";
import type { MaskStrategy } from "../runtime/bundle/format.js";
import { DecimalText } from "../runtime/masking/decimal-text.js";
import { buildRowMaskPlan, type ColumnType, maskDataRow, maskDataRows, type RowMaskPlan } from "../runtime/masking/index.js";
import type { DetectorName } from "../runtime/schema/attributes.js";
import { PG } from "./support/pg-gateway.js";

const KEY = Buffer.alloc(32, 7);
const REDACT: MaskStrategy = { kind: "redact" };
const DETECTORS: [DetectorName, MaskStrategy][] = [["email", REDACT], ["credit_card", REDACT], ["us_ssn", REDACT]];
const CARD = "4111111111111111";

const OID = {
  bool: 16, bytea: 17, char: 18, name: 19, int8: 20, int2: 21, int4: 23, text: 25, json: 114, xml: 142, point: 600,
  float4: 700, float8: 701, unknown: 705, bpchar: 1042, varchar: 1043, timestamptz: 1184, numeric: 1700, uuid: 2950, record: 2249,
  textArray: 1009, int4range: 3904, tsvector: 3614, jsonb: 3802, userType: 16385,
};

const binary = (dataTypeID: number): ColumnType => ({ dataTypeID, format: "binary" });
const text = (dataTypeID: number): ColumnType => ({ dataTypeID, format: "text" });

function planFor(types: ColumnType[], masks: (MaskStrategy | undefined)[] = types.map(() => undefined)): RowMaskPlan {
  const plan = buildRowMaskPlan(masks, new Map(DETECTORS), { hashKey: KEY, columnTypes: types });
  if (plan === undefined) throw new Error("expected a mask plan");
  return plan;
}

/** The fields of whole DataRows back to back, as bytes (binary values are not UTF-8). */
function readRows(buf: Buffer): (Buffer | null)[][] {
  const rows: (Buffer | null)[][] = [];
  for (let at = 0; at < buf.length; ) {
    expect(buf[at]).toBe(0x44);
    const end = at + 1 + buf.readInt32BE(at + 1);
    const fields: (Buffer | null)[] = [];
    let pos = at + 7;
    for (let i = buf.readUInt16BE(at + 5); i > 0; i--) {
      const len = buf.readInt32BE(pos);
      pos += 4;
      fields.push(len < 0 ? null : Buffer.from(buf.subarray(pos, pos + len)));
      if (len > 0) pos += len;
    }
    expect(pos).toBe(end);
    rows.push(fields);
    at = end;
  }
  return rows;
}

/** Masks one row, through `maskDataRow` and through `maskDataRows`, which must agree. */
function mask(values: (string | Buffer | null)[], plan: RowMaskPlan): (Buffer | null)[] {
  const one = readRows(maskDataRow(encodeDataRow(values), plan));
  const run = readRows(maskDataRows(Buffer.concat([encodeDataRow(values), encodeDataRow(values)]), plan));
  expect(run).toEqual([one[0], one[0]]);
  return one[0]!;
}

const utf8 = (s: string): Buffer => Buffer.from(s, "utf8");
const jsonb = (s: string, version = 1): Buffer => Buffer.concat([Buffer.of(version), utf8(s)]);
function int8(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b;
}

describe("binary-format columns with detectors", () => {
  it("leaves undetectable types untouched, whatever their bytes", () => {
    const types = [OID.bool, OID.int2, OID.int4, OID.float4, OID.timestamptz, OID.uuid].map(binary);
    expect(buildRowMaskPlan(types.map(() => undefined), new Map(DETECTORS), { hashKey: KEY, columnTypes: types })).toBeUndefined();
    // beside a column that is scanned
    const values = [Buffer.of(1), Buffer.of(0x40, 0x40), utf8("@@@@"), utf8("@@@@"), Buffer.alloc(8, 0x34), utf8("a@example.comXYZ"), utf8("x")];
    expect(mask(values, planFor([...types, binary(OID.text)]))).toEqual(values);
  });

  it("scans the built-in string types as in text format and replaces what it finds", () => {
    for (const oid of [OID.text, OID.varchar, OID.bpchar, OID.name, OID.unknown, OID.char]) {
      const plan = planFor([binary(oid), text(oid)]);
      const value = `mail ada@example.com, card ${CARD}`;
      const [asBinary, asText] = mask([value, value], plan);
      expect(asBinary!.toString(), `oid ${oid}`).toBe("mail [REDACTED], card [REDACTED]");
      expect(asBinary).toEqual(asText);
      expect(mask(["nothing here"], planFor([binary(oid)]))).toEqual([utf8("nothing here")]);
    }
  });

  it("scans json, xml and bytea as they are and withholds a value with a detection", () => {
    const plan = planFor([binary(OID.json), binary(OID.xml), binary(OID.bytea)]);
    expect(mask(['{"email": "ada@example.com"}', "<p>123-45-6789</p>", utf8(`card ${CARD}`)], plan)).toEqual([null, null, null]);
    const clean = [utf8('{"id": 1}'), utf8("<p>hello</p>"), Buffer.of(0, 1, 2, 0xff)];
    expect(mask(clean, plan)).toEqual(clean);
  });

  it("scans jsonb after its version byte; another version or no byte at all is withheld", () => {
    const plan = planFor([binary(OID.jsonb)]);
    expect(mask([jsonb('{"email": "ada@example.com"}')], plan)).toEqual([null]);
    // the version byte is not part of the text: '@' glued to it does not make an address
    expect(mask([jsonb('{"n": 1}')], plan)).toEqual([jsonb('{"n": 1}')]);
    expect(mask([jsonb('{"n": 1}', 2)], plan)).toEqual([null]);
    expect(mask([Buffer.alloc(0)], plan)).toEqual([null]);
    expect(mask([null], plan)).toEqual([null]);
  });

  it("decodes int8 and numeric to their text and withholds a card number or a malformed value", () => {
    const plan = planFor([binary(OID.int8), binary(OID.numeric), binary(OID.int8), binary(OID.numeric)]);
    // 4111111111111111 as numeric: weight 3, digits 4111 1111 1111 1111
    const cardNumeric = Buffer.from("000400030000000010ef045704570457", "hex");
    const small = Buffer.from("0001000000000000002a", "hex"); // 42
    expect(mask([int8(BigInt(CARD)), cardNumeric, int8(42n), small], plan)).toEqual([null, null, int8(42n), small]);
    expect(mask([Buffer.alloc(7), Buffer.from("0001000000000000", "hex"), int8(-1n), small], plan)).toEqual([null, null, int8(-1n), small]);
  });

  it("decodes float8 to its digits (up to 17 significant: a card number) and withholds a detection or a malformed value", () => {
    const float8 = (n: number): Buffer => {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(n);
      return b;
    };
    // an Amex number fits a double exactly
    const amex = float8(378282246310005);
    const plan = planFor([binary(OID.float8), binary(OID.float8), binary(OID.float8)]);
    expect(mask([amex, float8(3.25), Buffer.alloc(4)], plan)).toEqual([null, float8(3.25), null]);
    // in text format float8 is scanned too: no longer taken to be unable to hold a detection
    expect(mask(["378282246310005", "3.25"], planFor([text(OID.float8), text(OID.float8)]))).toEqual([null, utf8("3.25")]);
  });

  it("withholds every other binary value, detected or not: arrays, records, ranges, user types…", () => {
    const oids = [OID.textArray, OID.record, OID.int4range, OID.tsvector, OID.point, OID.userType, OID.userType + 1000];
    const values = oids.map(() => Buffer.of(0, 0, 0, 1));
    expect(mask(values, planFor(oids.map(binary)))).toEqual(oids.map(() => null));
    expect(mask(oids.map(() => null), planFor(oids.map(binary)))).toEqual(oids.map(() => null));
  });

  it("keeps text-format columns of the same types as before: free text replaced, other types NULL on a detection", () => {
    const types = [OID.text, OID.int8, OID.textArray, OID.jsonb, OID.userType, OID.int4].map(text);
    const values = ["ada@example.com", CARD, "{ada@example.com}", '{"e": "ada@example.com"}', "ada@example.com", "42"];
    expect(mask(values, planFor(types))).toEqual([utf8("[REDACTED]"), null, null, null, utf8("[REDACTED]"), utf8("42")]);
    const clean = ["x", "42", "{a}", "{}", "mood", "7"];
    expect(mask(clean, planFor(types))).toEqual(clean.map(utf8));
  });

  it("column masks still give NULL in binary format, and no detectors leave binary columns alone", () => {
    expect(mask(["Ada", "x"], planFor([binary(OID.text), binary(OID.text)], [{ kind: "partial", keep: 2 }, undefined]))).toEqual([null, utf8("x")]);
    expect(buildRowMaskPlan([undefined, undefined], new Map(), { hashKey: KEY, columnTypes: [binary(OID.textArray), binary(OID.bytea)] })).toBeUndefined();
  });

  it("mixes binary and text columns in one row, with needle cursors intact around the decoded numbers", () => {
    const types = [text(OID.text), binary(OID.int8), binary(OID.text), binary(OID.numeric), binary(OID.jsonb), text(OID.text)];
    const plan = planFor(types);
    const row = ["a@example.com", int8(7n), "b@example.com", Buffer.from("0001000000000000002a", "hex"), jsonb('"c@example.com"'), "d@example.com"];
    expect(mask(row, plan)).toEqual([utf8("[REDACTED]"), int8(7n), utf8("[REDACTED]"), row[3], null, utf8("[REDACTED]")]);
  });
});

describe("int8 and numeric binary forms decode to PostgreSQL's text", () => {
  let direct: pg.Client;
  beforeAll(async () => {
    direct = new pg.Client({ ...PG, database: "postgres" });
    await direct.connect().catch((err: unknown) => {
      throw new Error(`these tests need PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres: ${String(err)}`);
    });
  });
  afterAll(async () => {
    await direct?.end();
  });

  /** pairs of (binary form, text) from the server; `values` is a query returning one column `x` */
  async function pairs(send: string, values: string): Promise<{ bin: Buffer; txt: string }[]> {
    const { rows } = await direct.query<{ bin: Buffer; txt: string }>(`select ${send}(x) as bin, x::text as txt from (${values}) v`);
    return rows;
  }

  function decodeAll(rows: { bin: Buffer; txt: string }[], decode: (d: DecimalText, b: Buffer) => number): void {
    const d = new DecimalText();
    const wrong: string[] = [];
    for (const { bin, txt } of rows) {
      // placed at an offset in a larger buffer, as a field of a message is
      const msg = Buffer.concat([Buffer.from("xyz"), bin, Buffer.from("!")]);
      const n = decode(d, msg);
      const got = n < 0 ? `malformed (${n})` : d.buffer.toString("latin1", 0, n);
      if (got !== txt) wrong.push(`${bin.toString("hex")}: ${got} != ${txt}`);
    }
    expect(wrong).toEqual([]);
  }

  it("int8: edges, powers of ten either side, and random values", async () => {
    const rows = await pairs("int8send", `
      select unnest(array[0, 1, -1, 9223372036854775807, -9223372036854775808, 4111111111111111, -4111111111111111,
                          999999, 1000000, -1000000, 1000001, 4294967295, 4294967296, -4294967296, 2147483648, -2147483648]::int8[]) as x
      union all select (10::numeric ^ g)::int8 + d from generate_series(0, 17) g, unnest(array[-1, 0, 1]) d
      union all select -((10::numeric ^ g)::int8 + d) from generate_series(0, 17) g, unnest(array[-1, 0, 1]) d
      union all select ((random() - 0.5) * 2 * 9.2e18 / (10::numeric ^ (g % 19)))::int8 from generate_series(1, 3000) g`);
    expect(rows.length).toBeGreaterThan(3000);
    decodeAll(rows, (d, b) => d.int8(b, 3, b.length - 1));
  });

  it("numeric: zero, signs, NaN, ±Infinity, scales, weight < 0, huge and random values", async () => {
    const rows = await pairs("numeric_send", `
      select unnest(array['0', '-0', '0.000', '-0.000', '1', '-1', '0.1', '-0.1', '0.0001', '0.00001', '0.000012345',
                          '1e-20', '-1e-20', '9999', '10000', '10001', '99990000', '1.5', '100.00', '4111111111111111',
                          '4111111111111111.00', '-4111111111111111', '123456789012345678901234567890.123456789',
                          'NaN', 'Infinity', '-Infinity', '1e100', '1e-100', '-9.99e1000', '1e-16383',
                          '0.1000', '12345.678900', '0.00000000000000000000000000000000000001']::numeric[]) as x
      union all select round(1 / 3::numeric, g) from generate_series(0, 1000, 37) g
      union all select round(((random() - 0.5) * 10 ^ (g % 60 - 20))::numeric, g % 23) from generate_series(1, 3000) g
      union all select trunc(random() * 1e30)::numeric * 10::numeric ^ (g % 40 - 20) from generate_series(1, 500) g
      union all select 10::numeric ^ 131071 - 1 union all select -(10::numeric ^ 1000)`);
    expect(rows.length).toBeGreaterThan(3500);
    decodeAll(rows, (d, b) => d.numeric(b, 3, b.length - 1));
  });

  it("refuses what numeric_recv refuses", () => {
    const d = new DecimalText();
    const bad = [
      "",
      "00010000000000", // short header
      "000100000000000027", // a digit cut in half
      "0001000000000000", // a digit missing
      "00000000000000002710", // a digit too many
      "0001000000000000ffff", // a negative digit
      "00010000000000002710", // digit 10000
      "000000000001000000", // header plus a stray byte
      "0000000012340000", // an unknown sign
      "0000000000004000", // dscale above its mask
    ];
    for (const hex of bad) {
      const b = Buffer.from(hex, "hex");
      expect(d.numeric(b, 0, b.length), hex).toBe(-1);
    }
    expect(d.int8(Buffer.alloc(9), 0, 9)).toBe(-1);
    expect(d.int8(Buffer.alloc(7), 0, 7)).toBe(-1);
  });
});

describe("bytea in text format (hex, as bytea_output = hex prints it; escape prints printable bytes as they are)", () => {
  const hex = (s: string): string => `\\x${Buffer.from(s).toString("hex")}`;

  it("a detection in the bytes its hex runs stand for gives NULL, in a bytea and in a bytea[]", () => {
    const plan = planFor([text(OID.bytea), text(1001), text(OID.text)]);
    expect(mask([hex("mail ada@example.com"), `{"\\${hex("x")}","\\${hex(`card ${CARD}`)}"}`, "note"], plan))
      .toEqual([null, null, Buffer.from("note")]);
    // upper-case digits too
    expect(mask([hex("ada@example.com").toUpperCase().replace("\\X", "\\x"), null, "n"], plan)).toEqual([null, null, Buffer.from("n")]);
  });

  it("clean bytes come through unchanged; escape-format text is scanned as it stands", () => {
    const plan = planFor([text(OID.bytea), text(OID.bytea)]);
    const clean = hex("no secrets here, just bytes \u0001\u0002");
    expect(mask([clean, "plain escape text"], plan)).toEqual([Buffer.from(clean), Buffer.from("plain escape text")]);
    expect(mask(["\\000ada@example.com\\377", clean], plan)).toEqual([null, Buffer.from(clean)]);
  });

  it("a side buffer scanned again from its start is searched afresh: a clean value does not hide the next one's detection", () => {
    const plan = planFor([text(OID.bytea)]);
    expect(mask([hex("no at sign here")], plan)).toEqual([Buffer.from(hex("no at sign here"))]);
    expect(mask([hex("a@example.com")], plan)).toEqual([null]);
  });

  it("a hex run with an odd number of digits (not what the server prints) gives NULL", () => {
    expect(mask(["\\x616"], planFor([text(OID.bytea)]))).toEqual([null]);
  });
});

import { createHmac, generateKeyPairSync } from "node:crypto";
import { Parser } from "pg-protocol/dist/parser.js";
import { checkSync } from "recheck";
import { describe, expect, it } from "vitest";
import { encodeCopyData, encodeDataRow } from "../bench/pg-rows.js";
import type { MaskStrategy } from "../runtime/bundle/format.js";
import { ByteProfiler } from "../runtime/masking/detectors/byte-profile.js";
import { DETECTOR_BY_NAME } from "../runtime/masking/detectors/index.js";
import type { ByteProfile } from "../runtime/masking/detectors/types.js";
import {
  buildRowMaskPlan, type ColumnType, CopyMasker, type CopyFormat, maskDataRow, maskDataRows, MaskingError, type RowMaskPlan,
} from "../runtime/masking/index.js";
import { DETECTORS, type DetectorName } from "../runtime/schema/attributes.js";

const KEY = Buffer.alloc(32, 7);
const REDACT: MaskStrategy = { kind: "redact" };
const TEXT = 25, INT4 = 23, INT8 = 20, TIMESTAMPTZ = 1184, JSONB = 3802;

function hashOf(value: string): string {
  return "hash:" + createHmac("sha256", KEY).update(value, "utf8").digest("hex").slice(0, 16);
}

function planFor(
  columns: (MaskStrategy | undefined)[],
  detectors: [DetectorName, MaskStrategy][] = [],
  columnTypes?: ColumnType[],
): RowMaskPlan {
  const plan = buildRowMaskPlan(columns, new Map(detectors), { hashKey: KEY, columnTypes });
  if (plan === undefined) throw new Error("expected a mask plan");
  return plan;
}

/** Parses messages with pg-protocol's own parser: the output must be well-formed. */
function parseDataRows(buf: Buffer): (string | null)[][] {
  const rows: (string | null)[][] = [];
  new Parser().parse(buf, (msg) => {
    if (msg.name !== "dataRow") throw new Error(`expected a DataRow, parsed ${msg.name}`);
    rows.push((msg as unknown as { fields: (string | null)[] }).fields);
  });
  return rows;
}

/** Masks one row and returns its fields as a client would read them. */
function maskRow(values: (string | null)[], plan: RowMaskPlan): (string | null)[] {
  const rows = parseDataRows(maskDataRow(encodeDataRow(values), plan));
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

/** Runs one detector (redact) over a single text value. */
function detect(name: DetectorName, value: string): string | null {
  return maskRow([value], planFor([undefined], [[name, REDACT]]))[0]!;
}

/** The byte profile by its definition, one byte at a time. */
function naiveProfile(s: string): ByteProfile {
  const runs = (s.match(/[0-9 .()+-]+/g) ?? []).filter((r) => r.length >= 2);
  return {
    digitRun: Math.max(0, ...runs.map((r) => r.replace(/[^0-9]/g, "").length)),
    phoneShape: /\+[1-9]|[0-9]{3}[ .-][0-9]{4}/.test(s),
    ssnShape: /[0-9]{3}([- ])[0-9]{2}\1[0-9]{4}/.test(s),
    longBase64Run: /[A-Za-z0-9+/]{40}/.test(s) && /[0-9]/.test(s),
    ibanHead: /[A-Z]{2}[0-9]{2}/.test(s),
  };
}

describe("byte prefilter", () => {
  it("the probing profile equals the byte-by-byte definition", () => {
    const alphabet = "0123456789 -.()+/AZaz@\u00e9";
    let seed = 1;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const profiler = new ByteProfiler();
    for (let n = 0; n < 4000; n++) {
      const len = Math.floor(rnd() * (rnd() < 0.8 ? 120 : 400));
      // skew towards long runs of one class so every branch is met
      const pools = ["0123456789 -", "0123456789 .-()+", "ABCxyz019+/", "ABCxyz+/ -", "abcdefghij \u00e9", alphabet];
      const pool = pools[Math.floor(rnd() * pools.length)]!;
      let s = Array.from({ length: len }, () => pool[Math.floor(rnd() * pool.length)]).join("");
      // one digit far from the rest
      if (rnd() < 0.2) s = rnd() < 0.5 ? `7${s}` : `${s}7`;
      const buf = Buffer.from(`#${s}#`);
      profiler.profile(buf, 1, buf.length - 1);
      const { digitRun, phoneShape, ssnShape, longBase64Run, ibanHead } = profiler;
      expect({ digitRun, phoneShape, ssnShape, longBase64Run, ibanHead }, JSON.stringify(s)).toEqual(naiveProfile(s));
    }
  });
});

describe("detectors", () => {
  it("every detector's regexes are linear-time (recheck)", () => {
    for (const name of DETECTORS) {
      for (const re of DETECTOR_BY_NAME[name].regexes) {
        const result = checkSync(re.source, re.flags);
        expect(result.status, `${name}: /${re.source}/ is ${result.status}`).toBe("safe");
      }
    }
  }, 120_000);

  it("email", () => {
    expect(detect("email", "mail alice.smith+tag@example.co.uk today")).toBe("mail [REDACTED] today");
    expect(detect("email", "bob@example.com.")).toBe("[REDACTED].");
    for (const v of ["not an email @ all", "a@b", "x@y.c1", "user@-bad.com", ".@example.com"]) {
      expect(detect("email", v)).toBe(v);
    }
  });

  it("credit_card: Luhn-valid test numbers masked, invalid ones kept", () => {
    for (const card of [
      "4111111111111111", "4242 4242 4242 4242", "5555-5555-5555-4444", "378282246310005",
      "6011111111111117", "30569309025904", "3530111333300000",
    ]) {
      expect(detect("credit_card", `card ${card} ok`)).toBe("card [REDACTED] ok");
    }
    for (const v of ["4111111111111112", "4242 4242 4242 4241", "12345678901234567890123", "0000000000000000", "411111111111"]) {
      expect(detect("credit_card", v)).toBe(v);
    }
  });

  it("us_ssn: issuable numbers masked, SSA-invalid ranges kept", () => {
    expect(detect("us_ssn", "ssn 123-45-6789.")).toBe("ssn [REDACTED].");
    expect(detect("us_ssn", "ssn 123 45 6789")).toBe("ssn [REDACTED]");
    for (const v of ["000-12-3456", "666-12-3456", "900-12-3456", "999-12-3456", "123-00-4567", "123-45-0000", "123456789", "123-45 6789", "2024-123-45-6789"]) {
      expect(detect("us_ssn", v)).toBe(v);
    }
  });

  it("iban: mod-97 check digits", () => {
    expect(detect("iban", "pay GB82 WEST 1234 5698 7654 32 now")).toBe("pay [REDACTED] now");
    expect(detect("iban", "GB82 WEST 1234 5698 7654 32 AND MORE")).toBe("[REDACTED] AND MORE");
    expect(detect("iban", "DE89370400440532013000")).toBe("[REDACTED]");
    expect(detect("iban", "FR1420041010050500013M02606")).toBe("[REDACTED]");
    expect(detect("iban", "NO9386011117947")).toBe("[REDACTED]");
    for (const v of ["GB82WEST12345698765433", "DE88370400440532013000", "AB12CDEF"]) {
      expect(detect("iban", v)).toBe(v);
    }
  });

  it("aws_access_key", () => {
    expect(detect("aws_access_key", "id=AKIAIOSFODNN7EXAMPLE;")).toBe("id=[REDACTED];");
    expect(detect("aws_access_key", "ASIAY34FZKBOKMUTVV7A")).toBe("[REDACTED]");
    for (const v of ["AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN7EXAMPLEX", "XAKIAIOSFODNN7EXAMPLE"]) {
      expect(detect("aws_access_key", v)).toBe(v);
    }
  });

  it("aws_secret_key: standalone 40 mixed base64 characters", () => {
    expect(detect("aws_secret_key", "secret: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")).toBe("secret: [REDACTED]");
    for (const v of [
      "da39a3ee5e6b4b0d3255bfef95601890afd80709", // SHA-1 hex
      "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYX", // 41 characters
      "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk==", // padded base64
    ]) {
      expect(detect("aws_secret_key", v)).toBe(v);
    }
  });

  it("jwt: header must decode to JSON with alg", () => {
    const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
    const payload = Buffer.from(JSON.stringify({ sub: "42" })).toString("base64url");
    const token = `${header}.${payload}.c2lnbmF0dXJl`;
    expect(detect("jwt", `Bearer ${token}`)).toBe("Bearer [REDACTED]");
    expect(detect("jwt", `${header}.${payload}.`)).toBe("[REDACTED]");
    const noAlg = Buffer.from(JSON.stringify({ typ: "JWT" })).toString("base64url");
    for (const v of [`${noAlg}.${payload}.sig`, "eyJub3QganNvbg.abc.def", `${header}.`]) {
      expect(detect("jwt", v)).toBe(v);
    }
  });

  it("private_key: PEM blocks, and truncated ones to the end of the value", () => {
    const pem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(detect("private_key", `key:\n${pem}after`)).toBe("key:\n[REDACTED]\nafter");
    expect(detect("private_key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- x")).toBe("[REDACTED] x");
    expect(detect("private_key", "a -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk")).toBe("a [REDACTED]");
    const pub = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----";
    expect(detect("private_key", pub)).toBe(pub);
  });

  it("phone: E.164 and NANP formats", () => {
    for (const p of ["+14155552671", "(415) 555-2671", "415-555-2671", "415.555.2671", "+1 415 555 2671", "+44 20 7946 0958"]) {
      expect(detect("phone", `call ${p} now`)).toBe("call [REDACTED] now");
    }
    for (const v of ["4155552671", "2024-05-01 12:34:56+00", "order 12345678", "+1234567", "v1.2.3"]) {
      expect(detect("phone", v)).toBe(v);
    }
  });

  it("the shortest possible matches pass the length cut-off", () => {
    const shortest: [DetectorName, string][] = [
      ["email", "a@b.cd"], ["credit_card", "4222222222222"], ["us_ssn", "123-45-6789"], ["iban", "NO9386011117947"],
      ["aws_access_key", "AKIAIOSFODNN7EXAMPLE"], ["aws_secret_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
      ["jwt", "eyJhbGciOiIifQ.e30."], ["private_key", "-----BEGIN PRIVATE KEY-----"], ["phone", "+12345678"],
    ];
    for (const [name, value] of shortest) expect(detect(name, value), name).toBe("[REDACTED]");
  });

  it("several detectors in one value, overlaps merged under the stronger strategy", () => {
    const plan = planFor([undefined], [
      ["email", { kind: "partial", keep: 4 }],
      ["credit_card", REDACT],
      ["phone", { kind: "hash" }],
    ]);
    expect(maskRow(["a@example.com, 4111 1111 1111 1111, +14155552671"], plan)).toEqual([
      `*********.com, [REDACTED], ${hashOf("+14155552671")}`,
    ]);
    // a card number also looks like a phone number: the stronger redact wins
    expect(maskRow(["+4111111111111111"], plan)[0]).toMatch(/^\+?\[REDACTED\]$/);
  });
});

describe("detection on raw bytes equals the regexes on the decoded text", () => {
  // Fragments that make matches (and near misses), cut at odd places and glued to noise.
  const header = Buffer.from(JSON.stringify({ alg: "HS256" })).toString("base64url");
  const SEEDS = [
    "alice.smith+tag@example.co.uk", "bob@example.com.", "x@y.c1", "..a..b@c.de", "a.@b.cd", "a@b-.cd", "a@-b.cd", "a@b..cd",
    "é@example.com", "a@exämple.com", "ab@cd.ef@gh.ij", `${"l".repeat(64)}@x.io`, `${"l".repeat(65)}@x.io`, "a@b.cd-.", "@@a@b.cd",
    "4111 1111 1111 1111", "4111111111111112", "5555-5555-5555-4444", "378282246310005", "0000000000000000",
    "123-45-6789", "123 45 6789", "666-12-3456", "2024-123-45-6789",
    "GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "NO9386011117947", "GB82WEST12345698765433",
    "AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A", "AKIAIOSFODNN7EXAMPL",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    `${header}.eyJzdWIiOiI0MiJ9.c2ln`, `${header}.e30.`, "eyJub3QganNvbg.abc.def",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----\nab",
    "+14155552671", "(415) 555-2671", "415.555.2671", "+44 20 7946 0958", "+1234567",
  ];
  const NOISE = ["", " ", "  ", ".", "-", "@", "+", "/", "=", "(", ")", "_", "0", "7", "A", "z", "é", "日本", "😀", "\u00a0", "ñ@", "\n"];

  let seed = 11;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  function randomValue(): string {
    let v = "";
    for (let n = Math.floor(rnd() * 5); n >= 0; n--) {
      const s = pick(SEEDS);
      const from = rnd() < 0.7 ? 0 : Math.floor(rnd() * s.length);
      const to = rnd() < 0.7 ? s.length : from + Math.floor(rnd() * (s.length - from + 1));
      v += pick(NOISE) + s.slice(from, to) + pick(NOISE);
    }
    return v;
  }

  /** What a detector finds on the UTF-8 decoded text, as byte offsets. */
  function textSpans(name: DetectorName, value: string): [number, number][] {
    const spans: [number, number][] = [];
    const offset = (i: number): number => Buffer.byteLength(value.slice(0, i), "utf8");
    DETECTOR_BY_NAME[name].find(value, (s, e) => spans.push([offset(s), offset(e)]));
    return spans;
  }

  it("findBytes on a value inside a larger buffer, cut at odd places", () => {
    for (const name of DETECTORS) {
      const findBytes = DETECTOR_BY_NAME[name].findBytes;
      if (findBytes === undefined) continue;
      for (let n = 0; n < 4000; n++) {
        const value = randomValue();
        // bytes around the value that would extend a match if read
        const before = Buffer.from("a.b@c"), after = Buffer.from("@d.ef1");
        const buf = Buffer.concat([before, Buffer.from(value, "utf8"), after]);
        const spans: [number, number][] = [];
        findBytes(buf, before.length, buf.length - after.length, (s, e) => spans.push([s - before.length, e - before.length]));
        expect(spans, `${name} ${JSON.stringify(value)}`).toEqual(textSpans(name, value));
      }
    }
  });

  it("the scanner (prefilters, latin1 text, merging) masks what the regexes find", () => {
    const all = planFor([undefined], DETECTORS.map((d) => [d, REDACT]));
    const one = new Map(DETECTORS.map((d) => [d, planFor([undefined], [[d, REDACT]])]));
    for (let n = 0; n < 3000; n++) {
      const value = randomValue();
      const bytes = Buffer.from(value, "utf8");
      const redacted = (spans: [number, number][]): string => {
        const merged: [number, number][] = [];
        for (const [s, e] of spans.sort((a, b) => a[0] - b[0] || b[1] - a[1])) {
          const last = merged[merged.length - 1];
          if (last !== undefined && s < last[1]) last[1] = Math.max(last[1], e);
          else merged.push([s, e]);
        }
        let out = "";
        let copied = 0;
        for (const [s, e] of merged) {
          out += bytes.subarray(copied, s).toString("utf8") + "[REDACTED]";
          copied = e;
        }
        return out + bytes.subarray(copied).toString("utf8");
      };
      for (const name of DETECTORS) {
        expect(maskRow([value], one.get(name)!)[0], `${name} ${JSON.stringify(value)}`).toBe(redacted(textSpans(name, value)));
      }
      expect(maskRow([value], all)[0], JSON.stringify(value)).toBe(redacted(DETECTORS.flatMap((d) => textSpans(d, value))));
    }
  });

  it("partial and hash over detected spans count and hash UTF-8 characters", () => {
    const pem = "-----BEGIN PRIVATE KEY-----\nñé日😀";
    expect(maskRow([`a ${pem}`], planFor([undefined], [["private_key", { kind: "partial", keep: 2 }]]))[0])
      .toBe(`a ${"*".repeat(Array.from(pem).length - 2)}日😀`);
    expect(maskRow([`${pem}`], planFor([undefined], [["private_key", { kind: "hash" }]]))[0]).toBe(hashOf(pem));
    const plan = planFor([undefined], [["email", { kind: "partial", keep: 3 }]]);
    expect(maskRow(["a@b.cd x@example.org, y@example.org"], plan)[0]).toBe(`***.cd ${"*".repeat(10)}org, ${"*".repeat(10)}org`);
    expect(maskRow(["é a@example.com"], plan)[0]).toBe("é **********com");
  });
});

describe("strategies", () => {
  it("redact, partial (never more than half), hash, null", () => {
    const plan = planFor([REDACT, { kind: "partial", keep: 4 }, { kind: "hash" }, { kind: "null" }, { kind: "partial", keep: 10 }]);
    expect(maskRow(["secret", "555-0123", "alice@example.com", "gone", "abcd"], plan)).toEqual([
      "[REDACTED]", "****0123", hashOf("alice@example.com"), null, "**cd",
    ]);
  });

  it("hash is stable (joins) and keyed", () => {
    const plan = planFor([{ kind: "hash" }, { kind: "hash" }]);
    const [a, b] = maskRow(["same", "same"], plan);
    expect(a).toBe(b);
    expect(a).toMatch(/^hash:[0-9a-f]{16}$/);
    const other = buildRowMaskPlan([{ kind: "hash" }], new Map(), { hashKey: Buffer.alloc(32, 8) })!;
    expect(maskRow(["same"], other)[0]).not.toBe(a);
  });

  it("partial counts characters, not bytes (multi-byte UTF-8)", () => {
    const plan = planFor([{ kind: "partial", keep: 2 }, { kind: "partial", keep: 3 }]);
    expect(maskRow(["Zoë Ünïcødé", "😀😀😀😀😀😀"], plan)).toEqual(["*********dé", "***😀😀😀"]);
  });

  it("non-string types get NULL instead of a replacement their client parser would reject", () => {
    const plan = planFor([REDACT, { kind: "hash" }, REDACT], [["credit_card", REDACT]],
      [{ dataTypeID: INT4, format: "text" }, { dataTypeID: TIMESTAMPTZ, format: "text" }, { dataTypeID: JSONB, format: "text" }]);
    expect(maskRow(["42", "2024-05-01 00:00:00+00", "{}"], plan)).toEqual([null, null, null]);
    const cards = planFor([undefined, undefined], [["credit_card", REDACT]],
      [{ dataTypeID: INT8, format: "text" }, { dataTypeID: TEXT, format: "text" }]);
    expect(maskRow(["4111111111111111", "4111111111111111"], cards)).toEqual([null, "[REDACTED]"]);
  });

  it("binary-format columns: column masks give NULL, detectors scan binary text (more in masking-binary.test.ts)", () => {
    const plan = planFor([REDACT, undefined], [["email", REDACT]],
      [{ dataTypeID: TEXT, format: "binary" }, { dataTypeID: TEXT, format: "binary" }]);
    expect(maskRow(["secret", "a@example.com"], plan)).toEqual([null, "[REDACTED]"]);
  });

  it("detector strategy null turns the whole value NULL", () => {
    expect(maskRow(["x a@example.com"], planFor([undefined], [["email", { kind: "null" }]]))).toEqual([null]);
  });

  it("bad plans fail closed", () => {
    expect(() => buildRowMaskPlan([REDACT], new Map(), { hashKey: Buffer.alloc(8) })).toThrow(MaskingError);
    expect(() => planFor([{ kind: "partial" }])).toThrow(/keep/);
    expect(() => planFor([REDACT], [], [])).toThrow(MaskingError);
    expect(buildRowMaskPlan([undefined, undefined], new Map(), { hashKey: KEY })).toBeUndefined();
    expect(buildRowMaskPlan([undefined], new Map([["email", REDACT]]), {
      hashKey: KEY, columnTypes: [{ dataTypeID: INT4, format: "text" }],
    })).toBeUndefined();
  });
});

describe("maskDataRow", () => {
  it("round-trips through pg-protocol's Parser with NULLs, multi-byte values and length changes", () => {
    const plan = planFor([undefined, REDACT, undefined, { kind: "null" }], [["email", { kind: "hash" }]]);
    const out = maskDataRow(encodeDataRow([null, "x", "naïve 日本 bob@example.org ✓", "drop me"]), plan);
    expect(parseDataRows(out)).toEqual([[null, "[REDACTED]", `naïve 日本 ${hashOf("bob@example.org")} ✓`, null]]);
    expect(out.readInt32BE(1)).toBe(out.length - 1);
  });

  it("returns the same Buffer when nothing changes", () => {
    const plan = planFor([undefined, undefined], [["email", REDACT], ["credit_card", REDACT]]);
    const msg = encodeDataRow(["no secrets here", null]);
    expect(maskDataRow(msg, plan)).toBe(msg);
    const withAt = encodeDataRow(["not @ an email", "4111111111111112"]);
    expect(maskDataRow(withAt, plan)).toBe(withAt);
  });

  it("needle cursors restart for every message, even when a Buffer is reused", () => {
    const plan = planFor([undefined], [["email", REDACT]]);
    const msg = encodeDataRow(["xxxxxxxxxxxxx"]);
    expect(maskDataRow(msg, plan)).toBe(msg);
    msg.write("a@example.com", 11); // same Buffer object, new contents
    expect(parseDataRows(maskDataRow(msg, plan))).toEqual([["[REDACTED]"]]);
  });

  it("rebuilt rows stay intact while later rows are masked, and equal the run path, growing or shrinking", () => {
    const plan = planFor([REDACT, { kind: "partial", keep: 2 }, undefined, { kind: "hash" }, { kind: "null" }],
      [["email", REDACT], ["credit_card", { kind: "hash" }]]);
    const rows = Array.from({ length: 3000 }, (_, i) => [
      i % 5 === 0 ? null : "x".repeat(i % 30),
      i % 7 === 0 ? "Zoë Müller" : "ab",
      i % 3 === 0 ? `to a${i}@example.com and 4111 1111 1111 1111` : i % 500 === 1 ? `${"long ".repeat(5000)}b@c.de` : "plain",
      String(i),
      i % 2 ? "gone" : null,
    ]);
    const messages = rows.map((r) => encodeDataRow(r));
    const copies = messages.map((m) => Buffer.from(m));
    const masked = messages.map((m) => maskDataRow(m, plan));
    messages.forEach((m, i) => expect(m.equals(copies[i]!)).toBe(true));
    expect(masked.flatMap((m) => parseDataRows(m))).toEqual(parseDataRows(maskDataRows(Buffer.concat(copies), plan)));
    expect(parseDataRows(masked[3]!)[0]![2]).toBe(`to [REDACTED] and ${hashOf("4111 1111 1111 1111")}`);
  });

  it("rejects malformed messages", () => {
    const plan = planFor([REDACT]);
    const good = encodeDataRow(["value"]);
    expect(() => maskDataRow(Buffer.from("X\0\0\0\x06\0\x01"), plan)).toThrow(/not a DataRow/);
    expect(() => maskDataRow(good.subarray(0, good.length - 1), plan)).toThrow(/length/);
    expect(() => maskDataRow(encodeDataRow(["a", "b"]), plan)).toThrow(/2 fields/);
    const badField = Buffer.from(good);
    badField.writeInt32BE(1000, 7);
    expect(() => maskDataRow(badField, plan)).toThrow(/out of bounds/);
    const trailing = Buffer.concat([good, Buffer.from("zz")]);
    trailing.writeInt32BE(trailing.length - 1, 1);
    expect(() => maskDataRow(trailing, plan)).toThrow(/after its last field/);
  });
});

describe("maskDataRows", () => {
  const rowsOf = (values: (string | null)[][]): Buffer => Buffer.concat(values.map((v) => encodeDataRow(v)));
  const oneByOne = (values: (string | null)[][], plan: RowMaskPlan) => values.flatMap((v) => parseDataRows(maskDataRow(encodeDataRow(v), plan)));

  it("masks same-length values in place and returns the run itself", () => {
    const plan = planFor([undefined, { kind: "partial", keep: 4 }], [["email", { kind: "partial", keep: 4 }]]);
    const values = [["1", "ada@example.com"], ["2", null], ["3", "mail grace@example.org today"]];
    const run = rowsOf(values);
    const expected = oneByOne(values, plan);
    expect(maskDataRows(run, plan)).toBe(run);
    expect(parseDataRows(run)).toEqual(expected);
    expect(expected[0]).toEqual(["1", "***********.com"]);
  });

  it("rebuilds rows that change size into one buffer with the rows around them", () => {
    const plan = planFor([undefined, { kind: "partial", keep: 2 }, { kind: "null" }], [["email", { kind: "hash" }]]);
    const values: (string | null)[][] = [
      ["untouched", "abcd", null],
      ["日本語のテキスト", "Zoë Müller", "gone"],
      ["write to bob@example.org", "xy", null],
      ["plain", "ascii", null],
      ["plain", "ascii", "gone too"],
    ];
    const expected = oneByOne(values, plan);
    const out = maskDataRows(rowsOf(values), plan);
    expect(parseDataRows(out)).toEqual(expected);
    expect(expected[1]).toEqual(["日本語のテキスト", "********er", null]);
    expect(expected[2]![0]).toBe(`write to ${hashOf("bob@example.org")}`);
  });

  it("detects across a run as row by row: needle cursors carry over rows, in-place writes stay behind them", () => {
    const plan = planFor([undefined, undefined], [["email", { kind: "partial", keep: 4 }], ["aws_access_key", REDACT]]);
    const values = Array.from({ length: 60 }, (_, i) => [
      i % 7 === 3 ? `to ann${i}@example.com and bo${i}@example.org` : `row ${i}`,
      i % 11 === 5 ? `key AKIAIOSFODNN7EXAMPL${i % 10}` : i % 13 === 0 ? "x@y" : "plain",
    ]);
    const expected = oneByOne(values, plan);
    expect(parseDataRows(maskDataRows(rowsOf(values), plan))).toEqual(expected);
    expect(expected[3]![0]).toBe(`to ${"*".repeat(12)}.com and ${"*".repeat(11)}.org`);
  });

  it("grows its output when masked rows are longer than the originals", () => {
    const plan = planFor([REDACT, REDACT]);
    const values = Array.from({ length: 300 }, (_, i) => [String(i % 10), i % 3 === 0 ? null : "x"]);
    expect(parseDataRows(maskDataRows(rowsOf(values), plan))).toEqual(oneByOne(values, plan));
  });

  it("rejects a run that is malformed or cut inside a message", () => {
    const plan = planFor([REDACT]);
    const run = rowsOf([["a"], ["b"]]);
    expect(() => maskDataRows(run.subarray(0, run.length - 1), plan)).toThrow(/length/);
    expect(() => maskDataRows(Buffer.concat([run, Buffer.from("C\0\0\0\x04")]), plan)).toThrow(/not a DataRow/);
    expect(() => maskDataRows(rowsOf([["a", "b"]]), plan)).toThrow(/2 fields/);
  });
});

describe("CopyMasker", () => {
  const detectors: [DetectorName, MaskStrategy][] = [["email", REDACT], ["credit_card", { kind: "partial", keep: 4 }], ["us_ssn", REDACT]];

  function runCopy(format: CopyFormat, chunks: Buffer[], plan: RowMaskPlan): string {
    const masker = new CopyMasker(plan, format);
    const out: Buffer[] = [];
    for (const chunk of chunks) {
      const masked = masker.push(encodeCopyData(chunk));
      if (masked !== null) out.push(masked.subarray(5));
    }
    const last = masker.end();
    if (last !== null) out.push(last.subarray(5));
    return Buffer.concat(out).toString("utf8");
  }

  const textSample =
    "1\tbob@example.com\t\\N\tplain\n" +
    "2\tcard\\t4111 1111 1111 1111\tssn 123-45-6789\tnaïve ✓ 日本\n" +
    "3\tback\\\\slash a\\x40example.com\tx\\nc@d.org\tok\n";
  const textExpected =
    "1\t[REDACTED]\t\\N\tplain\n" +
    "2\tcard\\t***************1111\tssn [REDACTED]\tnaïve ✓ 日本\n" +
    "3\tback\\\\slash [REDACTED]\tx\\n[REDACTED]\tok\n";

  const csvSample =
    "id,contact,note,extra\n" +
    '1,bob@example.com,,"plain"\n' +
    '2,"say ""hi"" to c@d.org","multi\nline 123-45-6789",\n' +
    '3,"a,b",naïve ✓,"4111-1111-1111-1111"\n';
  const csvExpected =
    "id,contact,note,extra\n" +
    '1,"[REDACTED]",,"plain"\n' +
    '2,"say ""hi"" to [REDACTED]","multi\nline [REDACTED]",\n' +
    '3,"a,b",naïve ✓,"***************1111"\n';

  const cases: [string, CopyFormat, string, string][] = [
    ["text", { kind: "text" }, textSample, textExpected],
    ["csv with header", { kind: "csv", header: true }, csvSample, csvExpected],
  ];

  for (const [label, format, sample, expected] of cases) {
    it(`${label}: escaped and quoted values are decoded before detection`, () => {
      expect(runCopy(format, [Buffer.from(sample)], planFor([undefined, undefined, undefined, undefined], detectors))).toBe(expected);
    });

    it(`${label}: the same output for a chunk split at every byte offset`, () => {
      const plan = planFor([undefined, undefined, undefined, undefined], detectors);
      const bytes = Buffer.from(sample);
      for (let cut = 0; cut <= bytes.length; cut++) {
        expect(runCopy(format, [bytes.subarray(0, cut), bytes.subarray(cut)], plan), `cut at ${cut}`).toBe(expected);
      }
      // and one byte per message
      const singles = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
      expect(runCopy(format, singles, plan)).toBe(expected);
    });
  }

  it("column masks, NULL strategy and custom delimiter", () => {
    const plan = planFor([{ kind: "null" }, { kind: "hash" }, undefined]);
    expect(runCopy({ kind: "text", delimiter: "|" }, [Buffer.from("a|b\\|c|keep\n")], plan))
      .toBe(`\\N|${hashOf("b|c")}|keep\n`);
    expect(runCopy({ kind: "csv" }, [Buffer.from("a,b,keep\n")], plan)).toBe(`,"${hashOf("b")}",keep\n`);
    const escaped = planFor([undefined], [["email", REDACT]]);
    expect(runCopy({ kind: "csv", escape: "\\" }, [Buffer.from('"a\\"b c@d.org"\n')], escaped)).toBe('"a\\"b [REDACTED]"\n');
    expect(() => new CopyMasker(escaped, { kind: "text", delimiter: "||" })).toThrow(MaskingError);
  });

  it("returns the same Buffer for untouched whole rows, null while a row is incomplete", () => {
    const masker = new CopyMasker(planFor([undefined], detectors), { kind: "text" });
    const msg = encodeCopyData("nothing to see\n");
    expect(masker.push(msg)).toBe(msg);
    expect(masker.push(encodeCopyData("partial a@"))).toBeNull();
    expect(masker.push(encodeCopyData("example.com\n"))!.subarray(5).toString()).toBe("partial [REDACTED]\n");
    expect(masker.end()).toBeNull();
  });

  it("fails closed on a wrong field count, a bad message, and binary COPY", () => {
    const plan = planFor([REDACT, undefined]);
    expect(() => new CopyMasker(plan, { kind: "text" }).push(encodeCopyData("only-one\n"))).toThrow(/1 fields/);
    expect(() => new CopyMasker(plan, { kind: "text" }).push(encodeCopyData("a\tb\tc\n"))).toThrow(/more than 2/);
    expect(() => new CopyMasker(plan, { kind: "text" }).push(encodeDataRow(["x"]))).toThrow(/not a CopyData/);
    expect(() => new CopyMasker(plan, { kind: "binary" } as unknown as CopyFormat)).toThrow(MaskingError);
  });
});

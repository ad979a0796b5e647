// The chain's entry writer against canonicalJson: the same bytes for every record the fuzzer
// makes (sink records of every kind, events, unicode, lone surrogates, control characters,
// nested output, optional fields present, absent and undefined, unknown keys, shapes in every
// key order), and the same refusal for what JSON cannot represent.

import { describe, expect, it } from "vitest";
import { writeData, writeEntry } from "../runtime/audit/entry-json.js";
import { canonicalJson } from "../runtime/bundle/canonical.js";
import { seededRandom } from "../runtime/seeded-random.js";

const PIECES = ["select", " ", "'", '"', "\\", "\n", "\t", "\u0000", "\u001f", "\u007f", "é", "ß", "中文", "😀", "\ud800", "\udfff", "\u2028", "</script>", "a", "0"];
const KEYS = ["text", "rows", "b", "a", "é", "10", "2", "", "session", "data", "zz", "__proto_", "A", "😀"];

function fuzzer(seed: number) {
  const next = seededRandom(seed);
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const string = (): string => Array.from({ length: int(8) }, () => pick(PIECES)).join("");
  const number = (): number => pick([0, -0, 1, -1, 0.1, 1e21, 1e-7, 123456789.125, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, -5e-324, int(1000)]);
  const value = (depth: number): unknown => {
    switch (int(depth > 2 ? 4 : 6)) {
      case 0: return string();
      case 1: return number();
      case 2: return pick([true, false, null]);
      case 3: return pick([undefined, string()]);
      case 4: return Array.from({ length: int(4) }, () => value(depth + 1) ?? null);
      default: return object(depth + 1);
    }
  };
  const object = (depth: number): Record<string, unknown> => {
    const out: Record<string, unknown> = int(5) === 0 ? Object.create(null) as Record<string, unknown> : {};
    for (let i = int(5); i > 0; i--) out[pick(KEYS)] = value(depth);
    return out;
  };
  const output = () => ({
    columns: Array.from({ length: int(3) + 1 }, string),
    rows: Array.from({ length: int(3) }, () => Array.from({ length: int(3) }, () => (int(4) === 0 ? null : string()))),
    truncated: next() < 0.5,
  });
  const optional = (record: Record<string, unknown>, key: string, make: () => unknown): void => {
    const roll = int(3);
    if (roll === 0) record[key] = make();
    else if (roll === 1) record[key] = undefined;
  };
  /** a record in one of the shapes the gateway writes, its keys in a shuffled order, sometimes with more keys */
  const record = (): { type: string; body: Record<string, unknown>; omit?: string } => {
    const session = `s-${string()}`;
    let body: Record<string, unknown>;
    let type: string;
    switch (int(4)) {
      case 0:
        type = "statement";
        body = { session, identity: { issuer: string(), subject: string() }, connection: string(), text: string(), decision: pick(["allow", "deny", "review"]), rules: Array.from({ length: int(3) }, string) };
        for (const [key, make] of [["reason", string], ["rows", number], ["bytes", number], ["durationMs", number], ["error", string], ["approval", string], ["output", output]] as const) optional(body, key, make);
        break;
      case 1:
        type = "session_started";
        body = { session, identity: { issuer: string(), subject: string(), claims: object(1) }, connection: string(), protocol: "postgres" };
        optional(body, "client", string);
        break;
      case 2:
        type = "session_ended";
        body = { session, rows: number(), bytes: number(), durationMs: number() };
        optional(body, "error", string);
        break;
      default:
        return { type: pick(["bundle_loaded", "approval_created", string()]), body: object(0) };
    }
    // more keys, but a record's session stays the string its type says it is
    if (int(4) === 0) body[pick(KEYS.filter((key) => key !== "session"))] = value(1);
    const shuffled = Object.entries(body).sort(() => next() - 0.5);
    return { type, body: Object.fromEntries(shuffled), omit: "session" };
  };
  return { record, string, int, next };
}

function canonical(seq: number, time: string, type: string, session: string | undefined, body: Record<string, unknown>, omit?: string): string {
  const data = { ...body };
  if (omit !== undefined) delete data[omit];
  return canonicalJson({ seq, time, type, data, ...(session !== undefined && { session }) });
}

describe("chain entry JSON", () => {
  it("writes the same bytes as canonicalJson for 20,000 fuzzed records", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { record, string, next } = fuzzer(seed);
      for (let i = 0; i < 1000; i++) {
        const { type, body, omit } = record();
        const session = omit === undefined ? (next() < 0.5 ? undefined : string()) : (body.session as string);
        const seq = 1 + Math.floor(next() * 2 ** 40);
        const time = new Date(Math.floor(next() * 4e12)).toISOString();
        const expected = canonical(seq, time, type, session, body, omit);
        const written = writeEntry(seq, time, type, session, writeData(body, omit));
        if (written !== expected) expect({ seed, i, written }).toEqual({ seed, i, written: expected });
      }
    }
  });

  it("keeps a record's own session key out of its data, and an event's in it", () => {
    const body = { session: "s1", text: "select 1", rows: undefined };
    expect(writeEntry(7, "2026-01-01T00:00:00.000Z", "statement", "s1", writeData(body, "session")))
      .toBe('{"data":{"text":"select 1"},"seq":7,"session":"s1","time":"2026-01-01T00:00:00.000Z","type":"statement"}');
    expect(writeEntry(8, "2026-01-01T00:00:00.000Z", "approval_created", undefined, writeData(body)))
      .toBe('{"data":{"session":"s1","text":"select 1"},"seq":8,"time":"2026-01-01T00:00:00.000Z","type":"approval_created"}');
  });

  it("refuses what canonicalJson refuses, with its message", () => {
    class Row {
      id = 1;
    }
    const bad: unknown[] = [Number.NaN, Number.POSITIVE_INFINITY, [1, undefined], [1, , 3], new Row(), new Date(0), new Map(), () => 1, 10n, Symbol("s")];
    for (const value of bad) {
      const body = { session: "s1", text: "x", output: { rows: [[value]] } };
      let expected: unknown;
      try {
        canonical(1, "t", "statement", "s1", body, "session");
      } catch (err) {
        expected = (err as Error).message;
      }
      expect(expected, String(value)).toBeDefined();
      expect(() => writeData(body, "session")).toThrow(expected as string);
    }
    // a body that is not a plain object is refused whole, as canonicalJson refuses it
    expect(() => writeData(new Row(), "session")).toThrow("$.data: only plain objects have a canonical JSON form");
  });
});

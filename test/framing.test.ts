import { describe, expect, it } from "vitest";
import { BACKEND_TYPES, FRONTEND_TYPES, Framer, FramingError, MessageTooLarge, type Piece } from "../runtime/postgres/framing.js";

function message(type: string, body: Buffer | string): Buffer {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(bytes.length + 4, 1);
  return Buffer.concat([head, bytes]);
}

function framer(streamable: (type: number) => boolean = () => false): Framer {
  const f = new Framer({ types: BACKEND_TYPES, maxMessage: 1024, maxStreamed: 4096 });
  f.streamable = streamable;
  return f;
}

/** every piece of `bytes` fed in chunks cut at `cuts` */
function pieces(f: Framer, bytes: Buffer, cuts: number[]): Piece[] {
  const out: Piece[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    f.push(bytes.subarray(from, cut));
    for (let p = f.next(); p !== null; p = f.next()) out.push(p.kind === "run" ? { ...p, bytes: Buffer.from(p.bytes) } : p);
    from = cut;
  }
  return out;
}

describe("framer", () => {
  const D = 0x44;
  const stream = Buffer.concat([
    message("T", "description"),
    ...Array.from({ length: 40 }, (_, i) => message("D", `row ${i} ${"x".repeat(i * 3)}`)),
    message("C", "SELECT 40\0"),
    message("Z", "I"),
  ]);

  it("hands on the same bytes and message counts wherever the chunks are cut", () => {
    for (let trial = 0; trial < 100; trial++) {
      const cuts = Array.from({ length: trial % 12 }, () => Math.floor(Math.random() * stream.length)).sort((a, b) => a - b);
      const out = pieces(framer((t) => t === D), stream, cuts);
      const whole = out.filter((p) => p.kind === "message");
      expect(whole.map((p) => String.fromCharCode(p.type))).toEqual(["T", "C", "Z"]);
      expect(out.reduce((n, p) => n + (p.kind === "run" ? p.messages : 0), 0)).toBe(40);
      expect(Buffer.concat(out.map((p) => (p.kind === "run" ? p.bytes : p.frame)))).toEqual(stream);
    }
  });

  it("asks again after a whole message: a row type streamed before a description may be held whole after it", () => {
    let masked = false;
    const f = framer((t) => t === D && !masked);
    f.push(Buffer.concat([message("D", "a"), message("D", "b")]));
    expect(f.next()).toMatchObject({ kind: "run", messages: 2 });
    f.push(Buffer.concat([message("T", "t"), message("D", "c")]));
    const description = f.next();
    expect(description).toMatchObject({ kind: "message", type: 0x54 });
    masked = true;
    expect(f.next()).toMatchObject({ kind: "message", type: D });
  });

  it("refuses unknown types, impossible lengths and messages over the limit", () => {
    expect(() => pieces(framer(), Buffer.from([0x7a, 0, 0, 0, 4]), [])).toThrow(FramingError);
    expect(() => pieces(framer(), Buffer.from([0x5a, 0, 0, 0, 3]), [])).toThrow(/invalid message length 3/);
    expect(() => pieces(framer(), message("E", Buffer.alloc(2000)), [])).toThrow(/exceeds the limit of 1024/);
    expect(() => pieces(framer((t) => t === D), message("D", Buffer.alloc(5000)), [3])).toThrow(/exceeds the limit of 4096/);
    // a header cut across chunks is checked once whole
    expect(() => pieces(framer(), Buffer.from([0x5a, 0, 0, 0, 2]), [2])).toThrow(/invalid message length 2/);
  });

  it("refuses a message over its type's own limit at its header, before any of its body arrives", () => {
    const client = (): Framer => new Framer({ types: FRONTEND_TYPES, maxMessage: 1 << 20, maxStreamed: 0, typeLimits: new Map([[0x51, 1024], [0x50, 1024]]) });
    const header = (type: string, size: number): Buffer => Buffer.from([type.charCodeAt(0), ...[24, 16, 8, 0].map((shift) => ((size - 1) >>> shift) & 0xff)]);
    // a 60 MB Query: only its five header bytes are sent, whole or cut across chunks
    for (const cuts of [[], [1], [3]]) {
      const refused = (() => {
        try {
          pieces(client(), header("Q", 60_000_000), cuts);
        } catch (err) {
          return err;
        }
      })();
      expect(refused).toBeInstanceOf(MessageTooLarge);
      expect(refused).toMatchObject({ type: 0x51, size: 60_000_000, limit: 1024, message: "message of 60000000 bytes exceeds the limit of 1024" });
    }
    expect(() => pieces(client(), header("P", 1025), [])).toThrow(MessageTooLarge);
    // at the limit, and other types up to the stream's limit, come out whole
    expect(pieces(client(), message("Q", `${"x".repeat(1024 - 6)}\0`), [700]).map((p) => p.kind === "message" && p.frame.length)).toEqual([1024]);
    expect(pieces(client(), message("d", Buffer.alloc(100_000)), [4096]).map((p) => p.kind === "message" && p.frame.length)).toEqual([100_005]);
    expect(() => pieces(client(), header("d", (1 << 20) + 1), [])).toThrow(/exceeds the limit of 1048576/);
  });
});

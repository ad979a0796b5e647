import { describe, expect, it } from "vitest";
import { OutputCapture } from "../runtime/postgres/output-capture.js";

function rowDescription(columns: { name: string; format: number }[]): Buffer {
  const parts = columns.map(({ name, format }) => {
    const field = Buffer.alloc(name.length + 1 + 18);
    field.write(name, 0, "utf8");
    field.writeInt16BE(format, name.length + 1 + 16);
    return field;
  });
  const body = Buffer.concat([Buffer.from([0, columns.length]), ...parts]);
  const head = Buffer.alloc(5);
  head[0] = 0x54;
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function dataRow(values: (Buffer | string | null)[]): Buffer {
  const parts = values.map((v) => {
    if (v === null) return Buffer.from([0xff, 0xff, 0xff, 0xff]);
    const bytes = typeof v === "string" ? Buffer.from(v) : v;
    const length = Buffer.alloc(4);
    length.writeInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  });
  const body = Buffer.concat([Buffer.from([values.length >> 8, values.length & 0xff]), ...parts]);
  const head = Buffer.alloc(5);
  head[0] = 0x44;
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** feeds `bytes` as runs cut at the given offsets */
function feed(capture: OutputCapture, bytes: Buffer, cuts: number[]): void {
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    capture.run(bytes.subarray(from, cut));
    from = cut;
  }
}

describe("output capture", () => {
  const columns = [{ name: "id", format: 0 }, { name: "name", format: 0 }, { name: "blob", format: 1 }];
  const rows = Array.from({ length: 50 }, (_, i) => [String(i), i % 7 === 0 ? null : `nämé ${i}`, Buffer.from([i, 0xff])]);
  const expected = rows.map(([id, name, blob]) => [id, name, `\\x${(blob as Buffer).toString("hex")}`]);
  const stream = Buffer.concat(rows.map((r) => dataRow(r as (Buffer | string | null)[])));

  it("decodes rows fed as runs cut anywhere, whatever the cuts", () => {
    for (let trial = 0; trial < 200; trial++) {
      const cuts = Array.from({ length: trial % 9 }, () => Math.floor(Math.random() * stream.length)).sort((a, b) => a - b);
      const capture = new OutputCapture();
      capture.describe(rowDescription(columns));
      feed(capture, stream, cuts);
      expect(capture.take()).toEqual({ columns: ["id", "name", "blob"], rows: expected, truncated: false });
    }
  });

  it("keeps whole rows up to the byte cap and marks the output truncated", () => {
    const capture = new OutputCapture({ maxBytes: 200, maxRows: 100 });
    capture.describe(rowDescription(columns));
    feed(capture, stream, [37, 150, 151]);
    const output = capture.take()!;
    const fit = rows.map((r) => dataRow(r as (Buffer | string | null)[]).length).reduce<number[]>((acc, n) => [...acc, (acc.at(-1) ?? 0) + n], []).filter((end) => end <= 200).length;
    expect(output.rows).toEqual(expected.slice(0, fit));
    expect(output.truncated).toBe(true);
  });

  it("keeps at most maxRows rows", () => {
    const capture = new OutputCapture({ maxBytes: 1 << 20, maxRows: 10 });
    capture.describe(rowDescription(columns));
    capture.run(stream);
    expect(capture.take()).toEqual({ columns: ["id", "name", "blob"], rows: expected.slice(0, 10), truncated: true });
  });

  it("decodes each result set of a statement with its own description", () => {
    const capture = new OutputCapture();
    capture.describe(rowDescription([{ name: "a", format: 1 }]));
    capture.message(dataRow([Buffer.from("hi")]));
    capture.describe(rowDescription([{ name: "b", format: 0 }]));
    capture.message(dataRow(["hi"]));
    expect(capture.take()).toEqual({ columns: ["b"], rows: [["\\x6869"], ["hi"]], truncated: false });
  });

  it("starts every statement afresh: no rows, no columns carried over", () => {
    const capture = new OutputCapture();
    capture.describe(rowDescription(columns));
    capture.run(stream.subarray(0, dataRow(rows[0] as (Buffer | string | null)[]).length));
    expect(capture.take()?.rows).toHaveLength(1);
    expect(capture.take()).toBeUndefined();
    capture.message(dataRow(["x"]));
    expect(capture.take()).toEqual({ columns: [], rows: [["x"]], truncated: false });
    // the same description again gives the same names
    capture.describe(rowDescription(columns));
    capture.message(dataRow(["1", "2", null]));
    expect(capture.take()).toEqual({ columns: ["id", "name", "blob"], rows: [["1", "2", null]], truncated: false });
  });

  it("ignores CopyData messages", () => {
    const copy = Buffer.concat([Buffer.from([0x64, 0, 0, 0, 7]), Buffer.from("a\tb")]);
    const capture = new OutputCapture();
    capture.run(copy);
    expect(capture.take()).toBeUndefined();
  });
});

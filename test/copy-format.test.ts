import { beforeAll, describe, expect, it } from "vitest";
import { loadSqlParser } from "../runtime/facts/sql/index.js";
import { copyOutLayout } from "../runtime/postgres/copy-format.js";

beforeAll(() => loadSqlParser());

describe("COPY TO STDOUT layout for detectors", () => {
  it.each([
    ["copy t to stdout", { kind: "text" }],
    ["COPY (select 1) TO STDOUT WITH CSV HEADER", { kind: "csv", header: true }],
    ["copy t to stdout with csv delimiter ';' null 'NUL' quote '''' escape '\\'", { kind: "csv", delimiter: ";", null: "NUL", quote: "'", escape: "\\" }],
    ["copy t to stdout (format csv, header false, force_quote *)", { kind: "csv", header: false }],
    ["copy t to stdout (format text, header on, delimiter '|')", { kind: "text", header: true, delimiter: "|" }],
    ["copy t to stdout (header 1)", { kind: "text", header: true }],
    ["copy t from stdin; copy t to stdout (format csv)", { kind: "csv" }],
    ["copy t to stdout csv; copy u to stdout (format csv)", { kind: "csv" }],
  ])("%s", (text, format) => {
    expect(copyOutLayout(text)).toEqual({ ok: true, format });
  });

  it.each([
    ["copy t to stdout (format binary)", /binary/],
    ["copy t to stdout with binary", /binary/],
    ["copy t to stdout (encoding 'latin1')", /ENCODING/],
    ["copy t to stdout (header match)", /HEADER/],
    ["copy t to stdout (format csv); copy t to stdout", /different layouts/],
    ["copy t to stdout (frobnicate 1)", /FROBNICATE/],
    ["copy t to '/tmp/x'", /no COPY … TO STDOUT/],
    ["copy t to stdout (", /does not parse/],
  ])("refuses %s", (text, reason) => {
    const layout = copyOutLayout(text);
    expect(layout.ok).toBe(false);
    expect(layout.ok ? "" : layout.reason).toMatch(reason);
  });
});

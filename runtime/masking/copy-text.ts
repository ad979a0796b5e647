import { bytesEqual, type CopyCodec, singleByte } from "./copy-codec.js";

const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

/** Backslash escapes PostgreSQL's COPY text format decodes (other escaped bytes stand for themselves). */
const SIMPLE_ESCAPES: Record<number, number> = { 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9, 0x76: 11 };
const ESCAPE_OUT: Record<number, string> = { 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v", 0x5c: "\\\\" };

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function isOctal(c: number | undefined): c is number {
  return c !== undefined && c >= 0x30 && c <= 0x37;
}

/** COPY … TO STDOUT (FORMAT text): tab-separated, `\N` for NULL, backslash escapes. */
export class CopyTextCodec implements CopyCodec {
  private readonly delimiter: number;
  private readonly nullBytes: Buffer;

  constructor(delimiter = "\t", nullString = "\\N") {
    this.delimiter = singleByte(delimiter, "DELIMITER");
    this.nullBytes = Buffer.from(nullString, "utf8");
  }

  rowEnd(buf: Buffer, from: number, to: number): number {
    // The text format escapes every newline inside values, so the first one ends the row.
    const at = buf.indexOf(NEWLINE, from);
    return at >= 0 && at < to ? at : -1;
  }

  fieldEnd(buf: Buffer, from: number, rowEnd: number): number {
    for (let i = from; i < rowEnd; i++) {
      const c = buf[i];
      if (c === BACKSLASH) i++;
      else if (c === this.delimiter) return i;
    }
    return rowEnd;
  }

  isNull(buf: Buffer, start: number, end: number): boolean {
    return bytesEqual(buf, start, end, this.nullBytes);
  }

  decode(buf: Buffer, start: number, end: number): Buffer | undefined {
    const first = buf.indexOf(BACKSLASH, start);
    if (first < 0 || first >= end) return undefined;
    const out = Buffer.allocUnsafe(end - start);
    let n = buf.copy(out, 0, start, first);
    for (let i = first; i < end; i++) {
      const c = buf[i]!;
      if (c !== BACKSLASH || i + 1 >= end) {
        out[n++] = c;
        continue;
      }
      const e = buf[++i]!;
      const simple = SIMPLE_ESCAPES[e];
      if (simple !== undefined) {
        out[n++] = simple;
      } else if (isOctal(e)) {
        let v = e - 0x30;
        for (let k = 0; k < 2 && isOctal(buf[i + 1]) && i + 1 < end; k++) v = v * 8 + (buf[++i]! - 0x30);
        out[n++] = v & 0xff;
      } else if (e === 0x78 && i + 1 < end && hexValue(buf[i + 1]!) >= 0) {
        let v = hexValue(buf[++i]!);
        if (i + 1 < end && hexValue(buf[i + 1]!) >= 0) v = v * 16 + hexValue(buf[++i]!);
        out[n++] = v;
      } else {
        out[n++] = e;
      }
    }
    return out.subarray(0, n);
  }

  encode(value: Buffer | null): Buffer {
    if (value === null) return this.nullBytes;
    const text = value.toString("utf8");
    let out = "";
    for (const ch of text) {
      const c = ch.charCodeAt(0);
      const escaped = ESCAPE_OUT[c];
      out += escaped ?? (c === this.delimiter ? "\\" + ch : ch);
    }
    return Buffer.from(out, "utf8");
  }
}

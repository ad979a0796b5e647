import { bytesEqual, type CopyCodec, singleByte } from "./copy-codec.js";

const NEWLINE = 0x0a;

/** COPY … TO STDOUT (FORMAT csv): quoted fields may hold delimiters and newlines. */
export class CopyCsvCodec implements CopyCodec {
  private readonly delimiter: number;
  private readonly quote: number;
  private readonly escape: number;
  private readonly nullBytes: Buffer;

  constructor(delimiter = ",", nullString = "", quote = '"', escape = quote) {
    this.delimiter = singleByte(delimiter, "DELIMITER");
    this.quote = singleByte(quote, "QUOTE");
    this.escape = singleByte(escape, "ESCAPE");
    this.nullBytes = Buffer.from(nullString, "utf8");
  }

  /** First offset in `[from, to)` holding `stop` outside quotes, or -1. */
  private scan(buf: Buffer, from: number, to: number, stop: number): number {
    let quoted = false;
    for (let i = from; i < to; i++) {
      const c = buf[i];
      if (quoted) {
        // an escaped quote (or escape) inside quotes is data
        if (c === this.escape && (buf[i + 1] === this.quote || buf[i + 1] === this.escape) && this.escape !== this.quote) i++;
        else if (c === this.quote) quoted = false;
      } else if (c === this.quote) {
        quoted = true;
      } else if (c === stop || c === NEWLINE) {
        return c === stop ? i : -1;
      }
    }
    return -1;
  }

  rowEnd(buf: Buffer, from: number, to: number): number {
    return this.scan(buf, from, to, NEWLINE);
  }

  fieldEnd(buf: Buffer, from: number, rowEnd: number): number {
    const at = this.scan(buf, from, rowEnd, this.delimiter);
    return at < 0 ? rowEnd : at;
  }

  isNull(buf: Buffer, start: number, end: number): boolean {
    return bytesEqual(buf, start, end, this.nullBytes);
  }

  decode(buf: Buffer, start: number, end: number): Buffer | undefined {
    const firstQuote = buf.indexOf(this.quote, start);
    if (firstQuote < 0 || firstQuote >= end) return undefined;
    const out = Buffer.allocUnsafe(end - start);
    let n = 0;
    let quoted = false;
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (!quoted) {
        if (c === this.quote) quoted = true;
        else out[n++] = c;
      } else if (c === this.escape && i + 1 < end && (buf[i + 1] === this.quote || buf[i + 1] === this.escape)) {
        out[n++] = buf[++i]!;
      } else if (c === this.quote) {
        quoted = false;
      } else {
        out[n++] = c;
      }
    }
    return out.subarray(0, n);
  }

  encode(value: Buffer | null): Buffer {
    if (value === null) return this.nullBytes;
    const text = value.toString("utf8");
    const q = String.fromCharCode(this.quote);
    const e = String.fromCharCode(this.escape);
    let out = q;
    for (const ch of text) out += ch === q || (ch === e && e !== q) ? e + ch : ch;
    return Buffer.from(out + q, "utf8");
  }
}

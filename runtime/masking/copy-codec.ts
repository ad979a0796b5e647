import { MaskingError } from "./errors.js";

/** One COPY TO STDOUT text layout: how rows and fields are framed and values escaped. */
export interface CopyCodec {
  /** Offset of the `\n` ending the row that starts at `from`, or -1 if not in `buf[from, to)`. */
  rowEnd(buf: Buffer, from: number, to: number): number;
  /** Offset of the delimiter ending the field at `from`, or `rowEnd` for the last field. */
  fieldEnd(buf: Buffer, from: number, rowEnd: number): number;
  /** The field `buf[start, end)` is SQL NULL. */
  isNull(buf: Buffer, start: number, end: number): boolean;
  /** The value of a non-NULL field, or `undefined` when its bytes are the value as they are. */
  decode(buf: Buffer, start: number, end: number): Buffer | undefined;
  /** A value (or SQL NULL) as field bytes. */
  encode(value: Buffer | null): Buffer;
}

/** Options of the COPY statement, as PostgreSQL defaults them. */
export interface CopyFormat {
  kind: "text" | "csv";
  /** default: tab (text), comma (csv) */
  delimiter?: string;
  /** default: `\N` (text), empty (csv) */
  null?: string;
  /** csv only; default `"` */
  quote?: string;
  /** csv only; default: the quote character */
  escape?: string;
  /** the first row is a header line, passed through untouched */
  header?: boolean;
}

/** A COPY option that must be one single-byte character, as PostgreSQL requires. */
export function singleByte(value: string, option: string): number {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length !== 1 || bytes[0]! >= 0x80) {
    throw new MaskingError(`COPY ${option} must be a single one-byte character, got ${JSON.stringify(value)}`);
  }
  return bytes[0]!;
}

/** `buf[start, end)` equals `bytes`. */
export function bytesEqual(buf: Buffer, start: number, end: number, bytes: Buffer): boolean {
  return end - start === bytes.length && buf.compare(bytes, 0, bytes.length, start, end) === 0;
}

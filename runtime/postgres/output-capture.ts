// The audit's copy of what a statement returned (DESIGN.md §5 "Audit": the masked output up to
// a cap). Fed the bytes the client is sent — whole DataRows, or raw runs that may be cut at
// chunk edges — it copies them, up to the cap, into one buffer the session reuses, and decodes
// them into strings only when the statement ends. Decoding row by row as the bytes pass would
// keep hundreds of small strings alive across the chunks of a large result: the young
// generation promotes them and the old one pays a full collection for each few statements.

import type { CapturedOutput } from "./context.js";
import { readCString } from "./messages.js";

const DATA_ROW = 0x44;

export interface CaptureLimits {
  /** bytes of row messages decoded per statement */
  maxBytes: number;
  maxRows: number;
}

export const DEFAULT_CAPTURE: CaptureLimits = { maxBytes: 16 * 1024, maxRows: 200 };

export class OutputCapture {
  private columns: string[] = [];
  private formats: number[] = [];
  /** the last description decoded, and its arrays */
  private described: Buffer | null = null;
  private describedColumns: string[] = [];
  private describedFormats: number[] = [];
  /** rows decoded at a description change (a second result set of the same statement) */
  private rows: (string | null)[][] = [];
  private truncated = false;
  /** raw DataRow bytes of the current result set, up to the room the cap leaves */
  private readonly raw: Buffer;
  private rawLength = 0;
  /** bytes offered past the room: the output was cut */
  private overflow = false;

  constructor(private readonly limits: CaptureLimits = DEFAULT_CAPTURE) {
    this.raw = Buffer.allocUnsafe(limits.maxBytes);
  }

  /** a RowDescription the client is sent: names the columns of the rows that follow */
  describe(frame: Buffer): void {
    this.decodeRaw();
    // a session mostly repeats its statements: the same description decodes to the same arrays,
    // which are shared, never mutated, between the outputs they name
    if (this.described !== null && this.described.equals(frame)) {
      this.columns = this.describedColumns;
      this.formats = this.describedFormats;
      return;
    }
    const count = frame.readInt16BE(5);
    const columns: string[] = [];
    const formats: number[] = [];
    let at = 7;
    for (let i = 0; i < count; i++) {
      const name = readCString(frame, at);
      columns.push(name.value);
      formats.push(frame.readInt16BE(name.next + 16));
      at = name.next + 18;
    }
    this.described = Buffer.from(frame);
    this.columns = this.describedColumns = columns;
    this.formats = this.describedFormats = formats;
  }

  /** one whole message the client is sent (DataRow or CopyData) */
  message(frame: Buffer): void {
    if (frame[0] === DATA_ROW) this.run(frame);
  }

  /** raw bytes of streamed messages, possibly cut at either end of the run */
  run(bytes: Buffer): void {
    if (this.overflow || this.truncated) return;
    const room = this.raw.length - this.rawLength;
    if (bytes.length > room) this.overflow = true;
    this.rawLength += bytes.copy(this.raw, this.rawLength, 0, Math.min(room, bytes.length));
  }

  /** the statement ended: what was captured (undefined when it returned no rows), and a fresh start */
  take(): CapturedOutput | undefined {
    this.decodeRaw();
    const output = this.rows.length > 0 || this.truncated ? { columns: this.columns, rows: this.rows, truncated: this.truncated } : undefined;
    this.columns = [];
    this.formats = [];
    this.rows = [];
    this.truncated = false;
    return output;
  }

  /** the whole DataRows copied so far, as rows of the current description; a message cut by the cap truncates */
  private decodeRaw(): void {
    const raw = this.raw;
    let at = 0;
    while (at < this.rawLength && !this.truncated) {
      if (this.rawLength - at < 5) break;
      const size = raw.readInt32BE(at + 1) + 1;
      if (this.rawLength - at < size) break;
      if (raw[at] === DATA_ROW) {
        if (this.rows.length >= this.limits.maxRows) this.truncated = true;
        else this.rows.push(this.decodeRow(at));
      }
      at += size;
    }
    // bytes left over belong to a message the cap cut, or that never arrived whole
    if (at < this.rawLength || this.overflow) this.truncated = true;
    this.rawLength = 0;
    this.overflow = false;
  }

  private decodeRow(start: number): (string | null)[] {
    const raw = this.raw;
    const count = raw.readInt16BE(start + 5);
    const row: (string | null)[] = [];
    let at = start + 7;
    for (let i = 0; i < count; i++) {
      const length = raw.readInt32BE(at);
      at += 4;
      if (length < 0) {
        row.push(null);
        continue;
      }
      row.push(this.formats[i] === 1 ? `\\x${raw.toString("hex", at, at + length)}` : raw.toString("utf8", at, at + length));
      at += length;
    }
    return row;
  }
}

// The audit's copy of what a statement returned (DESIGN.md §5 "Audit": the masked output up to
// a cap). Fed the bytes the client is sent — whole DataRows, or raw runs that may be cut at
// chunk edges — it decodes rows until the cap, then only notes that it stopped.

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
  private rows: (string | null)[][] = [];
  private bytes = 0;
  private truncated = false;
  /** the cut end of the last run: the start of a message still arriving */
  private pending: Buffer | null = null;

  constructor(private readonly limits: CaptureLimits = DEFAULT_CAPTURE) {}

  /** a RowDescription the client is sent: names the columns of the rows that follow */
  describe(frame: Buffer): void {
    const count = frame.readInt16BE(5);
    this.columns = [];
    this.formats = [];
    let at = 7;
    for (let i = 0; i < count; i++) {
      const name = readCString(frame, at);
      this.columns.push(name.value);
      this.formats.push(frame.readInt16BE(name.next + 16));
      at = name.next + 18;
    }
  }

  /** one whole message the client is sent (DataRow or CopyData) */
  message(frame: Buffer): void {
    if (frame[0] === DATA_ROW && this.room(frame.length)) this.decodeRow(frame);
  }

  /** raw bytes of streamed messages, possibly cut at either end of the run */
  run(bytes: Buffer): void {
    if (this.truncated) return;
    let data = this.pending === null ? bytes : Buffer.concat([this.pending, bytes]);
    this.pending = null;
    while (data.length >= 5) {
      const size = data.readInt32BE(1) + 1;
      if (!this.room(size)) return;
      if (data.length < size) break;
      if (data[0] === DATA_ROW) this.decodeRow(data.subarray(0, size));
      data = data.subarray(size);
    }
    if (data.length > 0) this.pending = Buffer.from(data);
  }

  /** the statement ended: what was captured (undefined when it returned no rows), and a fresh start */
  take(): CapturedOutput | undefined {
    const output = this.rows.length > 0 || this.truncated ? { columns: this.columns, rows: this.rows, truncated: this.truncated } : undefined;
    this.columns = [];
    this.formats = [];
    this.rows = [];
    this.bytes = 0;
    this.truncated = false;
    this.pending = null;
    return output;
  }

  private room(size: number): boolean {
    if (this.truncated) return false;
    if (this.bytes + size > this.limits.maxBytes || this.rows.length >= this.limits.maxRows) {
      this.truncated = true;
      this.pending = null;
      return false;
    }
    return true;
  }

  private decodeRow(frame: Buffer): void {
    this.bytes += frame.length;
    const count = frame.readInt16BE(5);
    const row: (string | null)[] = [];
    let at = 7;
    for (let i = 0; i < count; i++) {
      const length = frame.readInt32BE(at);
      at += 4;
      if (length < 0) {
        row.push(null);
        continue;
      }
      const value = frame.subarray(at, at + length);
      at += length;
      row.push(this.formats[i] === 1 ? `\\x${value.toString("hex")}` : value.toString("utf8"));
    }
    this.rows.push(row);
  }
}

import { CopyCsvCodec } from "./copy-csv.js";
import type { CopyCodec, CopyFormat } from "./copy-codec.js";
import { CopyTextCodec } from "./copy-text.js";
import { EditList } from "./edit-list.js";
import { MaskingError } from "./errors.js";
import type { RowMaskPlan } from "./plan.js";

const COPY_DATA = 0x64; // 'd'
const HEADER = 5; // type, int32 length

function codecFor(format: CopyFormat): CopyCodec {
  switch (format.kind) {
    case "text": return new CopyTextCodec(format.delimiter, format.null);
    case "csv": return new CopyCsvCodec(format.delimiter, format.null, format.quote, format.escape);
    default:
      // binary COPY has no text to scan: the proxy must refuse it when masks apply
      throw new MaskingError(`cannot mask COPY format "${String((format as { kind: unknown }).kind)}"`);
  }
}

/**
 * Masks the CopyData messages of one COPY … TO STDOUT. Values are decoded (escapes and
 * quotes undone) before masking, so detectors and strategies see exactly what a DataRow
 * would carry, then re-encoded. A message may hold several rows or part of one: a trailing
 * partial row is carried over to the next message.
 */
export class CopyMasker {
  private readonly codec: CopyCodec;
  private readonly edits = new EditList();
  private carry: Buffer | undefined;
  private headerPending: boolean;

  constructor(private readonly plan: RowMaskPlan, format: CopyFormat) {
    this.codec = codecFor(format);
    this.headerPending = format.header === true;
  }

  /**
   * The CopyData message to forward for `msg` (the same Buffer when nothing changed and no
   * row was carried), or `null` when it only held the start of a row.
   */
  push(msg: Buffer): Buffer | null {
    if (msg.length < HEADER || msg[0] !== COPY_DATA) throw new MaskingError("not a CopyData message");
    if (msg.readInt32BE(1) !== msg.length - 1) throw new MaskingError("CopyData length does not match the message");
    const carried = this.carry !== undefined;
    const data = carried ? Buffer.concat([this.carry!, msg.subarray(HEADER)]) : msg.subarray(HEADER);
    this.carry = undefined;
    const consumed = this.maskRows(data, false);
    if (consumed < data.length) this.carry = Buffer.from(data.subarray(consumed));
    if (!carried && consumed === data.length && this.edits.count === 0) return msg;
    return consumed === 0 ? null : this.message(data, consumed);
  }

  /** Call at CopyDone: the carried partial row (masked as a final row), or `null`. */
  end(): Buffer | null {
    const data = this.carry;
    this.carry = undefined;
    if (data === undefined) return null;
    return this.message(data, this.maskRows(data, true));
  }

  /** Masks whole rows from the start of `data`; returns the offset after the last one. */
  private maskRows(data: Buffer, final: boolean): number {
    this.plan.beginMessage();
    this.edits.clear();
    let pos = 0;
    while (pos < data.length) {
      let rowEnd = this.codec.rowEnd(data, pos, data.length);
      if (rowEnd < 0) {
        if (!final) break;
        rowEnd = data.length;
      }
      if (this.headerPending) this.headerPending = false;
      else this.maskRow(data, pos, rowEnd);
      pos = Math.min(rowEnd + 1, data.length);
    }
    return pos;
  }

  private maskRow(data: Buffer, start: number, rowEnd: number): void {
    const columns = this.plan.columnCount;
    let col = 0;
    for (let from = start; ; col++) {
      const fieldEnd = this.codec.fieldEnd(data, from, rowEnd);
      if (col >= columns) throw new MaskingError(`COPY row has more than ${columns} fields`);
      this.maskField(col, data, from, fieldEnd);
      if (fieldEnd >= rowEnd) break;
      from = fieldEnd + 1;
    }
    if (col + 1 !== columns) throw new MaskingError(`COPY row has ${col + 1} fields, the result has ${columns} columns`);
  }

  private maskField(col: number, data: Buffer, start: number, end: number): void {
    if (this.codec.isNull(data, start, end)) return;
    const decoded = this.codec.decode(data, start, end);
    const result = decoded === undefined
      ? this.plan.maskField(col, data, start, end)
      : this.plan.maskField(col, decoded, 0, decoded.length);
    if (result !== undefined) this.edits.replace(start, end, this.codec.encode(result));
  }

  private message(data: Buffer, length: number): Buffer {
    const out = Buffer.allocUnsafe(HEADER + length + this.edits.delta);
    out[0] = COPY_DATA;
    const written = this.edits.applyTo(data, 0, length, out, HEADER, 0);
    out.writeInt32BE(written - 1, 1);
    return out;
  }
}

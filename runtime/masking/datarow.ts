import { EditList } from "./edit-list.js";
import { MaskingError } from "./errors.js";
import { OutputSlab } from "./output-slab.js";
import { NULLED, type RowMaskPlan } from "./plan.js";

const DATA_ROW = 0x44; // 'D'
const HEADER = 7; // type, int32 length, int16 field count

const edits = new EditList();
const slab = new OutputSlab();

/**
 * Masks one whole DataRow message. Returns the same Buffer when no field changes, else a
 * new message (`msg` is never modified). A malformed message or one whose field count
 * differs from the plan throws `MaskingError` (the proxy closes the session).
 */
export function maskDataRow(msg: Buffer, plan: RowMaskPlan): Buffer {
  if (msg.length < HEADER || msg[0] !== DATA_ROW) throw new MaskingError("not a DataRow message");
  if (int32At(msg, 1) !== msg.length - 1) throw new MaskingError("DataRow length does not match the message");
  plan.beginMessage();
  edits.clear();
  addEdits(msg, 0, msg.length, plan, false);
  if (edits.count === 0) return msg;
  const size = msg.length + edits.delta;
  let out: Buffer;
  const lead = edits.maxGrowth;
  if (lead + msg.length <= OutputSlab.MAX_ROOM) {
    // Built in the slab over a copy of `msg` placed just far enough ahead that the output never
    // overtakes it: the bytes before the first edit are already where they belong.
    const at = slab.room(lead + msg.length);
    slab.buffer.set(msg, at + lead);
    edits.applyTo(slab.buffer, at + lead, at + lead + msg.length, slab.buffer, at, at + lead);
    out = slab.take(at, size);
  } else {
    out = Buffer.allocUnsafe(size);
    edits.applyTo(msg, 0, msg.length, out, 0, 0);
  }
  setInt32(out, 1, size - 1);
  return out;
}

/**
 * Masks a run of whole DataRow messages, as one upstream chunk carries them. A value whose
 * masked bytes are as long as the original is overwritten where it stands in `run` (so `run` is
 * modified). When some row changes size, the whole run is rebuilt into one new buffer (over a
 * copy of `run`, like `maskDataRow`); else `run` itself is returned. Throws `MaskingError` like
 * `maskDataRow`, and when `run` does not end at a message boundary.
 */
export function maskDataRows(run: Buffer, plan: RowMaskPlan): Buffer {
  // one needle cursor per run: rows are visited in order, and in-place writes stay behind it
  plan.beginMessage();
  edits.clear();
  for (let row = 0; row < run.length; ) {
    if (run.length - row < HEADER || run[row] !== DATA_ROW) throw new MaskingError("not a DataRow message");
    const end = row + 1 + int32At(run, row + 1);
    if (end > run.length || end < row + HEADER) throw new MaskingError("DataRow length does not match the message");
    // the row's length, set once its fields are known to change it
    const lengthEdit = edits.count;
    const before = edits.delta;
    edits.int32(row + 1, row + 5, 0);
    addEdits(run, row, end, plan, true);
    if (edits.count === lengthEdit + 1) edits.truncate(lengthEdit);
    else edits.setInt32(lengthEdit, end - row - 1 + edits.delta - before);
    row = end;
  }
  if (edits.count === 0) return run;
  const lead = edits.maxGrowth;
  const out = Buffer.allocUnsafe(lead + run.length);
  out.set(run, lead);
  const written = edits.applyTo(out, lead, lead + run.length, out, 0, lead);
  return out.subarray(0, written);
}

/**
 * Adds to `edits` the changes to the fields of the DataRow at `msg[start, end)`; with `inPlace`,
 * values whose masked bytes keep their length are written into `msg` instead.
 */
function addEdits(msg: Buffer, start: number, end: number, plan: RowMaskPlan, inPlace: boolean): void {
  const fields = (msg[start + 5]! << 8) | msg[start + 6]!;
  if (fields !== plan.columnCount) {
    throw new MaskingError(`DataRow has ${fields} fields, the result has ${plan.columnCount} columns`);
  }
  let pos = start + HEADER;
  for (let col = 0; col < fields; col++) {
    if (pos + 4 > end) throw new MaskingError("DataRow truncated in a field length");
    const len = int32At(msg, pos);
    pos += 4;
    if (len === -1) continue;
    if (len < 0 || pos + len > end) throw new MaskingError("DataRow field length out of bounds");
    if (plan.maskValue(col, msg, pos, pos + len, edits, pos - 4, inPlace) === NULLED) edits.int32(pos - 4, pos + len, -1);
    pos += len;
  }
  if (pos !== end) throw new MaskingError("DataRow has bytes after its last field");
}

/** `buf.readInt32BE(pos)` without its argument checks (the caller checked the bounds). */
function int32At(buf: Buffer, pos: number): number {
  return (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
}

function setInt32(buf: Buffer, pos: number, value: number): void {
  buf[pos] = value >>> 24;
  buf[pos + 1] = value >>> 16;
  buf[pos + 2] = value >>> 8;
  buf[pos + 3] = value;
}

import { EditList } from "./edit-list.js";
import { MaskingError } from "./errors.js";
import type { RowMaskPlan } from "./plan.js";

const DATA_ROW = 0x44; // 'D'
const HEADER = 7; // type, int32 length, int16 field count
const NULL_LENGTH = Buffer.from([0xff, 0xff, 0xff, 0xff]);

const edits = new EditList();

/**
 * Masks one whole DataRow message. Returns the same Buffer when no field changes, else a
 * new message built with one allocation. A malformed message or one whose field count
 * differs from the plan throws `MaskingError` (the proxy closes the session).
 */
export function maskDataRow(msg: Buffer, plan: RowMaskPlan): Buffer {
  if (msg.length < HEADER || msg[0] !== DATA_ROW) throw new MaskingError("not a DataRow message");
  if (msg.readInt32BE(1) !== msg.length - 1) throw new MaskingError("DataRow length does not match the message");
  const fields = msg.readUInt16BE(5);
  if (fields !== plan.columnCount) {
    throw new MaskingError(`DataRow has ${fields} fields, the result has ${plan.columnCount} columns`);
  }
  plan.beginMessage();
  edits.clear();
  const end = msg.length;
  let pos = HEADER;
  for (let col = 0; col < fields; col++) {
    if (pos + 4 > end) throw new MaskingError("DataRow truncated in a field length");
    const len = msg.readInt32BE(pos);
    pos += 4;
    if (len === -1) continue;
    if (len < 0 || pos + len > end) throw new MaskingError("DataRow field length out of bounds");
    const result = plan.maskField(col, msg, pos, pos + len);
    if (result === null) edits.add(pos - 4, pos + len, NULL_LENGTH, false);
    else if (result !== undefined) edits.add(pos - 4, pos + len, result, true);
    pos += len;
  }
  if (pos !== end) throw new MaskingError("DataRow has bytes after its last field");
  if (edits.count === 0) return msg;
  return rebuild(msg);
}

function rebuild(msg: Buffer): Buffer {
  const out = Buffer.allocUnsafe(msg.length + edits.delta);
  const written = edits.applyTo(msg, 0, msg.length, out, 0);
  out.writeInt32BE(written - 1, 1);
  return out;
}

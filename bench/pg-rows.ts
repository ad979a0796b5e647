// Builds PostgreSQL DataRow messages for the masking tests and benchmark.

/** A DataRow message ('D', int32 length, int16 field count, per field int32 length + bytes). */
export function encodeDataRow(values: readonly (string | Buffer | null)[]): Buffer {
  const parts = values.map((v) => (v === null ? null : typeof v === "string" ? Buffer.from(v, "utf8") : v));
  const size = 7 + parts.reduce((n, p) => n + 4 + (p?.length ?? 0), 0);
  const out = Buffer.allocUnsafe(size);
  out[0] = 0x44;
  out.writeInt32BE(size - 1, 1);
  out.writeUInt16BE(parts.length, 5);
  let pos = 7;
  for (const p of parts) {
    pos = out.writeInt32BE(p === null ? -1 : p.length, pos);
    if (p !== null) pos += p.copy(out, pos);
  }
  return out;
}

/** A CopyData message around `data`. */
export function encodeCopyData(data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = 0x64;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

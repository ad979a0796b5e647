/**
 * Replacements of byte ranges in one message, kept in reusable parallel arrays so the
 * unchanged path allocates nothing. Edits must be added in increasing, non-overlapping order.
 */
export class EditList {
  count = 0;
  /** total output bytes minus total input bytes */
  delta = 0;
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly values: (Buffer | string)[] = [];
  private readonly sizes: number[] = [];
  private readonly prefixed: boolean[] = [];

  clear(): void {
    this.count = 0;
    this.delta = 0;
  }

  /** Replace `[start, end)` by `value`, preceded by its int32 byte length when `lengthPrefix`. */
  add(start: number, end: number, value: Buffer | string, lengthPrefix: boolean): void {
    const size = typeof value === "string" ? Buffer.byteLength(value, "utf8") : value.length;
    const i = this.count++;
    this.starts[i] = start;
    this.ends[i] = end;
    this.values[i] = value;
    this.sizes[i] = size;
    this.prefixed[i] = lengthPrefix;
    this.delta += (lengthPrefix ? 4 : 0) + size - (end - start);
  }

  /** Copies `src[from, to)` into `out` at `at` with the edits applied; returns the end offset. */
  applyTo(src: Buffer, from: number, to: number, out: Buffer, at: number): number {
    let pos = at;
    let copied = from;
    for (let i = 0; i < this.count; i++) {
      pos = copyBytes(src, copied, this.starts[i]!, out, pos);
      const value = this.values[i]!;
      if (this.prefixed[i]) pos = out.writeInt32BE(this.sizes[i]!, pos);
      pos = typeof value === "string" ? pos + out.write(value, pos, "utf8") : copyBytes(value, 0, value.length, out, pos);
      copied = this.ends[i]!;
    }
    pos = copyBytes(src, copied, to, out, pos);
    // drop references to replaced values so they can be collected
    for (let i = 0; i < this.count; i++) this.values[i] = "";
    return pos;
  }
}

/** Below this, a plain loop beats Buffer#copy, whose argument checks and view allocation dominate on row-sized values. */
const SHORT_COPY = 64;

/** Copies `src[start, end)` to `out` at `at`; returns the end offset in `out`. */
export function copyBytes(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  const n = end - start;
  if (n > SHORT_COPY) {
    out.set(src.subarray(start, end), at);
    return at + n;
  }
  for (let i = 0; i < n; i++) out[at + i] = src[start + i]!;
  return at + n;
}

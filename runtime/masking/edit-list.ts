const BYTES = 0;
const TEXT = 1;
const INT32 = 2;
const STARS = 3;

const STAR = 0x2a; // '*'

/**
 * Replacements of byte ranges in one message, kept in reusable parallel arrays so the
 * unchanged path allocates nothing. Edits must be added in increasing, non-overlapping order
 * (adjacent is fine: a field's length and its value are two edits).
 */
export class EditList {
  count = 0;
  /** total output bytes minus total input bytes */
  delta = 0;
  /** the largest `delta` after any prefix of the edits (at least 0) */
  maxGrowth = 0;
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly kinds: number[] = [];
  /** INT32: the value; STARS: how many */
  private readonly args: number[] = [];
  private readonly values: (Buffer | string)[] = [];

  clear(): void {
    this.count = 0;
    this.delta = 0;
    this.maxGrowth = 0;
  }

  /** Replace `[start, end)` by `value` (UTF-8 when a string). */
  replace(start: number, end: number, value: Buffer | string): void {
    if (typeof value === "string") {
      const size = Buffer.byteLength(value, "utf8");
      this.push(start, end, TEXT, size, size, value);
    } else {
      this.push(start, end, BYTES, value.length, value.length, value);
    }
  }

  /** Replace `[start, end)` by the 4 bytes of `value`, big-endian (a field length; -1 and the value's range: NULL). */
  int32(start: number, end: number, value: number): void {
    this.push(start, end, INT32, value, 4, "");
  }

  /** Sets the value of edit `i`, an `int32` edit of 4 bytes. */
  setInt32(i: number, value: number): void {
    this.args[i] = value;
  }

  /** Drops the edits from `count` on; they must not have changed the size (`int32` edits of 4 bytes). */
  truncate(count: number): void {
    this.count = count;
  }

  /** Replace `[start, end)` by `count` asterisks. */
  stars(start: number, end: number, count: number): void {
    this.push(start, end, STARS, count, count, "");
  }

  private push(start: number, end: number, kind: number, arg: number, size: number, value: Buffer | string): void {
    const i = this.count++;
    this.starts[i] = start;
    this.ends[i] = end;
    this.kinds[i] = kind;
    this.args[i] = arg;
    this.values[i] = value;
    this.delta += size - (end - start);
    if (this.delta > this.maxGrowth) this.maxGrowth = this.delta;
  }

  /**
   * Copies `src[from, to)` into `out` at `at` with the edits applied; returns the end offset.
   * The edits' offsets are taken `shift` bytes further in `src` (a copy of the edited message
   * placed elsewhere). `src` may be `out` if the output never overtakes the bytes still to be
   * read: when `from - at >= maxGrowth`.
   */
  applyTo(src: Buffer, from: number, to: number, out: Buffer, at: number, shift: number): number {
    let pos = at;
    let copied = from;
    for (let i = 0; i < this.count; i++) {
      pos = copyBytes(src, copied, this.starts[i]! + shift, out, pos);
      pos = this.write(i, out, pos);
      copied = this.ends[i]! + shift;
    }
    pos = copyBytes(src, copied, to, out, pos);
    // drop references to replaced values so they can be collected
    for (let i = 0; i < this.count; i++) this.values[i] = "";
    return pos;
  }

  /** Writes edit `i`'s replacement into `out` at `pos`; returns the end offset. */
  private write(i: number, out: Buffer, pos: number): number {
    const arg = this.args[i]!;
    switch (this.kinds[i]) {
      case BYTES: {
        const value = this.values[i] as Buffer;
        return copyBytes(value, 0, value.length, out, pos);
      }
      case TEXT: return pos + out.write(this.values[i] as string, pos, "utf8");
      case INT32:
        out[pos] = arg >>> 24;
        out[pos + 1] = arg >>> 16;
        out[pos + 2] = arg >>> 8;
        out[pos + 3] = arg;
        return pos + 4;
      default:
        for (let k = 0; k < arg; k++) out[pos + k] = STAR;
        return pos + arg;
    }
  }
}

/**
 * Below these, a plain loop beats `set` of a `subarray` (whose view allocation dominates on
 * row-sized values) and `copyWithin` (which allocates nothing but still costs a call).
 */
const SHORT_COPY = 64;
const SHORT_MOVE = 16;

/** Copies `src[start, end)` to `out` at `at` (`src` may be `out`); returns the end offset in `out`. */
function copyBytes(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  const n = end - start;
  if (src === out && (n > SHORT_MOVE || start === at)) {
    if (start !== at) out.copyWithin(at, start, end);
    return at + n;
  }
  if (n > SHORT_COPY) {
    out.set(src.subarray(start, end), at);
    return at + n;
  }
  for (let i = 0; i < n; i++) out[at + i] = src[start + i]!;
  return at + n;
}

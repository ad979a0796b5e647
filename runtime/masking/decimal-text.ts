import type { Detector } from "./detectors/types.js";

const ZERO = 0x30; // '0'
const MINUS = 0x2d; // '-'
const POINT = 0x2e; // '.'

// numeric's binary form (numeric_send): int16 ndigits, int16 weight, uint16 sign, uint16 dscale,
// then ndigits base-10000 digits, each an int16 in [0, 9999]
const NUMERIC_HEADER = 8;
const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;
const NUMERIC_DSCALE_MASK = 0x3fff;
const NBASE = 10000;

const NAN = Buffer.from("NaN", "latin1");
const INFINITY = Buffer.from("Infinity", "latin1");
const MINUS_INFINITY = Buffer.from("-Infinity", "latin1");

const TWO_32 = 2 ** 32;
const MILLION = 1e6;

/** every byte a decimal text can hold: digits, sign, point, exponent, `NaN`, `Infinity` */
const DECIMAL_TEXT_BYTES = /^[0-9.\-+eNaIfinty]*$/;

/**
 * Whether `detector` may find anything in a decimal text: not when its prefilter needs a needle
 * (`@`, `AKIA`…) with a byte no such text holds. Scanning a short text for needles costs a native
 * search per needle, more than decoding it.
 */
export function mayMatchDecimalText(detector: Detector): boolean {
  const pf = detector.prefilter;
  return !("needles" in pf) || pf.needles.some((needle) => DECIMAL_TEXT_BYTES.test(needle));
}

/**
 * The decimal text PostgreSQL's output functions give for binary-format `int8` and `numeric`
 * values, written into one buffer reused from value to value (`buffer` may be replaced by a
 * larger one when a value needs it). Each method returns the text's length in `buffer`, or -1
 * when the value is malformed (the caller withholds it).
 */
export class DecimalText {
  buffer: Buffer = Buffer.allocUnsafe(64);
  private readonly float = new DataView(new ArrayBuffer(8));

  /**
   * float8: 8 bytes, big-endian IEEE 754 (float8send) → the shortest text that reads back as the
   * same double, digits in full below 1e21: every digit float8out prints is in it.
   */
  float8(buf: Uint8Array, start: number, end: number): number {
    if (end - start !== 8) return -1;
    for (let i = 0; i < 8; i++) this.float.setUint8(i, buf[start + i]!);
    return this.buffer.write(String(this.float.getFloat64(0)), 0, "latin1");
  }

  /** int8: 8 bytes, big-endian two's complement (int8send) → int8out's text. */
  int8(buf: Uint8Array, start: number, end: number): number {
    if (end - start !== 8) return -1;
    let hi = ((buf[start]! << 24) | (buf[start + 1]! << 16) | (buf[start + 2]! << 8) | buf[start + 3]!) >>> 0;
    let lo = ((buf[start + 4]! << 24) | (buf[start + 5]! << 16) | (buf[start + 6]! << 8) | buf[start + 7]!) >>> 0;
    const negative = hi >= 0x80000000;
    if (negative) {
      // the magnitude, as two unsigned 32-bit halves held in doubles (2^63 fits)
      hi = (~hi >>> 0) + (lo === 0 ? 1 : 0);
      lo = lo === 0 ? 0 : TWO_32 - lo;
    }
    // at most 19 digits, six at a time from the right: rh * 2^32 + lo stays below 2^53
    const out = this.buffer;
    let at = 20;
    do {
      const rh = hi % MILLION;
      hi = (hi - rh) / MILLION;
      const t = rh * TWO_32 + lo;
      const group = t % MILLION;
      lo = (t - group) / MILLION;
      // the leading group without its leading zeros
      const width = hi === 0 && lo === 0 ? decimalWidth(group) : 6;
      at -= width;
      writeDigits(out, at, group, width);
    } while (hi !== 0 || lo !== 0);
    if (negative) out[--at] = MINUS;
    out.copyWithin(0, at, 20);
    return 20 - at;
  }

  /** numeric (numeric_send) → numeric_out's text (get_str_from_var), checked as numeric_recv checks it. */
  numeric(buf: Uint8Array, start: number, end: number): number {
    if (end - start < NUMERIC_HEADER) return -1;
    const ndigits = (buf[start]! << 8) | buf[start + 1]!;
    const weight = (((buf[start + 2]! << 8) | buf[start + 3]!) << 16) >> 16;
    const sign = (buf[start + 4]! << 8) | buf[start + 5]!;
    const dscale = (buf[start + 6]! << 8) | buf[start + 7]!;
    if (end - start !== NUMERIC_HEADER + 2 * ndigits || (dscale & NUMERIC_DSCALE_MASK) !== dscale) return -1;
    const digits = start + NUMERIC_HEADER;
    for (let d = 0; d < ndigits; d++) if (digitAt(buf, digits, d) >= NBASE) return -1;
    switch (sign) {
      case NUMERIC_POS: case NUMERIC_NEG: break;
      case NUMERIC_NAN: return this.special(NAN);
      case NUMERIC_PINF: return this.special(INFINITY);
      case NUMERIC_NINF: return this.special(MINUS_INFINITY);
      default: return -1;
    }
    // sign, integer part in whole groups of 4, point, fraction rounded up to whole groups
    const out = this.room(1 + 4 * Math.max(weight + 1, 1) + 1 + dscale + 4);
    let at = 0;
    if (sign === NUMERIC_NEG) out[at++] = MINUS;
    let d: number;
    if (weight < 0) {
      d = weight + 1;
      out[at++] = ZERO;
    } else {
      for (d = 0; d <= weight; d++) {
        const dig = d < ndigits ? digitAt(buf, digits, d) : 0;
        // the first group without its leading zeros
        at = d === 0 ? writeLeading(out, at, dig) : writeGroup(out, at, dig);
      }
    }
    if (dscale > 0) {
      out[at++] = POINT;
      const fractionEnd = at + dscale;
      for (let i = 0; i < dscale; d++, i += 4) at = writeGroup(out, at, d >= 0 && d < ndigits ? digitAt(buf, digits, d) : 0);
      at = fractionEnd;
    }
    return at;
  }

  private special(text: Buffer): number {
    text.copy(this.buffer, 0);
    return text.length;
  }

  private room(bytes: number): Buffer {
    if (this.buffer.length < bytes) this.buffer = Buffer.allocUnsafe(Math.max(bytes, 2 * this.buffer.length));
    return this.buffer;
  }
}

/** digit `d`, read unsigned: a negative int16 comes out above 9999 and is refused like one */
function digitAt(buf: Uint8Array, digits: number, d: number): number {
  return (buf[digits + 2 * d]! << 8) | buf[digits + 2 * d + 1]!;
}

/** the 4 decimal digits of `dig` (0–9999) */
function writeGroup(out: Buffer, at: number, dig: number): number {
  return writeDigits(out, at, dig, 4);
}

/** `dig` (0–9999) without leading zeros; "0" for 0 */
function writeLeading(out: Buffer, at: number, dig: number): number {
  return writeDigits(out, at, dig, decimalWidth(dig));
}

/** how many decimal digits `n` (a non-negative integer) has; 1 for 0 */
function decimalWidth(n: number): number {
  let width = 1;
  for (let power = 10; power <= n; power *= 10) width++;
  return width;
}

/** the last `width` decimal digits of `dig` */
function writeDigits(out: Buffer, at: number, dig: number, width: number): number {
  for (let k = at + width - 1; k >= at; k--) {
    const q = (dig / 10) | 0;
    out[k] = ZERO + dig - 10 * q;
    dig = q;
  }
  return at + width;
}

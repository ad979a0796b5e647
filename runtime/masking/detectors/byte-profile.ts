import type { ByteProfile } from "./types.js";

const DIGIT = 1;
const DIGIT_RUN = 2; // digits and the separators ` -.()+`
const UPPER = 4;
const BASE64 = 8;

const CLASS = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = DIGIT | DIGIT_RUN | BASE64;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = UPPER | BASE64;
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] = BASE64;
CLASS[0x2b] = BASE64 | DIGIT_RUN; // +
CLASS[0x2f] = BASE64; // /
for (const c of [0x20, 0x2d, 0x2e, 0x28, 0x29]) CLASS[c] = DIGIT_RUN; // space - . ( )

const PLUS = 0x2b;
const DASH = 0x2d;
const SPACE = 0x20;
const PAREN_OPEN = 0x28;
const PAREN_CLOSE = 0x29;

/** The shortest base64 run `ByteProfile.longBase64Run` reports. */
export const LONG_BASE64_RUN = 40;

/**
 * Profiles values (see `ByteProfile`) without allocating. Every profile detector needs an
 * ASCII digit, so a value is first searched for digits eight bytes at a time (two 32-bit
 * reads, the last eight overlapping the ones before); the run around each digit is measured
 * byte by byte, its groups of digits with it. A value with a digit is probed for base64 runs
 * every 40 bytes (each run of 40 or more meets a probe), a probe measured by expanding around it.
 */
export class ByteProfiler implements ByteProfile {
  digitRun = 0;
  phoneShape = false;
  ssnShape = false;
  longBase64Run = false;
  ibanHead = false;
  /** the last buffer profiled, a view of its memory and where it starts there */
  private viewed: Uint8Array | undefined;
  private words: DataView | undefined;
  private offset = 0;

  /** Sets this profile's fields to those of `buf[start, end)`. */
  profile(buf: Uint8Array, start: number, end: number): void {
    if (buf !== this.viewed) {
      // reading `buffer` and `byteOffset` costs more than the profile of a short value: once per buffer
      this.viewed = buf;
      if (this.words?.buffer !== buf.buffer) this.words = new DataView(buf.buffer);
      this.offset = buf.byteOffset;
    }
    const words = this.words!;
    const offset = this.offset;
    let digitRun = 0;
    let phoneShape = false;
    let ssnShape = false;
    let ibanHead = false;
    let anyDigit = false;
    let i = start;
    for (;;) {
      while (i + 8 <= end && !hasDigit(words, offset + i)) i += 8;
      // fewer than 8 bytes left: the value's last 8 bytes tell whether a digit is left
      if (i + 8 > end && (i >= end || (end - start >= 8 && !hasDigit(words, offset + end - 8)))) break;
      // the next digit is in buf[i, i + 8)
      const stop = Math.min(i + 8, end);
      while (i < stop && (CLASS[buf[i]!]! & DIGIT) === 0) i++;
      if (i === stop) {
        if (stop === end) break;
        continue;
      }
      anyDigit = true;
      let runStart = i;
      while (runStart > start && CLASS[buf[runStart - 1]!]! & DIGIT_RUN) runStart--;
      let digits = 0;
      // the run's groups of digits: the current one's length; the group that ended last and the
      // separators after it; the two groups before the current one when single separators part them
      let group = 0;
      let ended = 0, separators = 0, separator = 0;
      let g1 = 0, s1 = 0, g2 = 0, s2 = 0;
      let j = runStart;
      for (; j < end; j++) {
        const c = buf[j]!;
        const k = CLASS[c]!;
        if ((k & DIGIT_RUN) === 0) break;
        if ((k & DIGIT) === 0) {
          if (group > 0) {
            ended = group;
            group = 0;
            separators = 0;
            separator = c;
          }
          separators++;
          if (c === PLUS && j + 1 < end && buf[j + 1]! >= 0x31 && buf[j + 1]! <= 0x39) phoneShape = true;
          continue;
        }
        digits++;
        if (group++ === 0) {
          if (separators === 1 && ended > 0) {
            g2 = g1;
            s2 = s1;
            g1 = ended;
            s1 = separator;
          } else {
            g1 = 0;
            g2 = 0;
          }
        }
        if (group === 4) {
          if (g1 >= 3 && s1 !== PLUS && s1 !== PAREN_OPEN && s1 !== PAREN_CLOSE) phoneShape = true;
          if (g1 === 2 && g2 >= 3 && s2 === s1 && (s1 === DASH || s1 === SPACE)) ssnShape = true;
        }
      }
      if (j - runStart >= 2 && digits > digitRun) digitRun = digits;
      // an IBAN head is two uppercase letters right before two digits that start a run
      if (!ibanHead && runStart - 2 >= start && j - runStart >= 2) {
        ibanHead = (CLASS[buf[runStart - 2]!]! & UPPER) !== 0 && (CLASS[buf[runStart - 1]!]! & UPPER) !== 0 &&
          (CLASS[buf[runStart]!]! & DIGIT) !== 0 && (CLASS[buf[runStart + 1]!]! & DIGIT) !== 0;
      }
      i = j; // no digit: it ends the run
    }
    let longBase64Run = false;
    for (let i = start + LONG_BASE64_RUN - 1; anyDigit && i < end && !longBase64Run; i += LONG_BASE64_RUN) {
      if ((CLASS[buf[i]!]! & BASE64) === 0) continue;
      let runStart = i;
      while (runStart > start && CLASS[buf[runStart - 1]!]! & BASE64) runStart--;
      let j = i + 1;
      while (j < end && CLASS[buf[j]!]! & BASE64) j++;
      longBase64Run = j - runStart >= LONG_BASE64_RUN;
      // the next run starts after j, so its 40th byte is at j + 40 or later
      i = j;
    }
    this.digitRun = digitRun;
    this.phoneShape = phoneShape;
    this.ssnShape = ssnShape;
    this.ibanHead = ibanHead;
    this.longBase64Run = longBase64Run;
  }
}

/** Some byte of the 8 at `at` is an ASCII digit. */
function hasDigit(words: DataView, at: number): boolean {
  return (digitBits(words.getUint32(at, true)) | digitBits(words.getUint32(at + 4, true))) !== 0;
}

/**
 * The high bit of each byte of the little-endian word `w` that is an ASCII digit 0x30–0x39.
 * Per 7-bit byte x, the high bit of `0xb9 - x` is set for x ≤ 0x39 and that of `x + 0x50`
 * for x ≥ 0x30; neither borrows nor carries into the next byte, and `~w` drops bytes ≥ 0x80.
 */
function digitBits(w: number): number {
  const x = w & 0x7f7f7f7f;
  return (0xb9b9b9b9 - x) & ~w & (x + 0x50505050) & 0x80808080;
}

import type { ByteProfile } from "./types.js";

const DIGIT = 1;
const UPPER = 2;
const BASE64 = 4;
const DIGIT_SEPARATOR = 8;

const CLASS = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = DIGIT | BASE64;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = UPPER | BASE64;
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] = BASE64;
CLASS[0x2b] = BASE64 | DIGIT_SEPARATOR; // +
CLASS[0x2f] = BASE64; // /
for (const c of [0x20, 0x2d, 0x2e, 0x28, 0x29]) CLASS[c] = DIGIT_SEPARATOR; // space - . ( )

/** Fills `out` with the profile of `buf[start, end)` in a single pass, without allocating. */
export function profileBytes(buf: Uint8Array, start: number, end: number, out: ByteProfile): void {
  let digitRun = 0, maxDigitRun = 0;
  let base64Run = 0, maxBase64Run = 0;
  // uppercase letters just seen; 1 when the last byte was a digit right after two or more
  let uppers = 0, digitAfterUppers = 0, ibanHead = false;
  for (let i = start; i < end; i++) {
    const k = CLASS[buf[i]!]!;
    if (k & DIGIT) {
      if (++digitRun > maxDigitRun) maxDigitRun = digitRun;
      if (uppers >= 2) digitAfterUppers = 1;
      else if (digitAfterUppers === 1) ibanHead = true;
      else digitAfterUppers = 0;
      uppers = 0;
    } else {
      if (!(k & DIGIT_SEPARATOR)) digitRun = 0;
      if (k & UPPER) uppers++;
      else uppers = 0;
      digitAfterUppers = 0;
    }
    if (k & BASE64) {
      if (++base64Run > maxBase64Run) maxBase64Run = base64Run;
    } else {
      base64Run = 0;
    }
  }
  out.digitRun = maxDigitRun;
  out.base64Run = maxBase64Run;
  out.ibanHead = ibanHead;
}

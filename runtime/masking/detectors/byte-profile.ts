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

/** The shortest base64 run `ByteProfile.longBase64Run` reports. */
export const LONG_BASE64_RUN = 40;

/**
 * Fills `out` with the profile of `buf[start, end)` without allocating, and without
 * visiting every byte: runs are found by probing, then measured by expanding around the
 * probe. Digit runs: a probe every 2 bytes lands on every digit or on a neighbour of it,
 * so it meets every run of 2 or more bytes that holds a digit (shorter runs hold at most
 * one digit, and no IBAN head). Base64 runs: a probe every 40 bytes
 * meets every run of 40 or more.
 */
export function profileBytes(buf: Uint8Array, start: number, end: number, out: ByteProfile): void {
  let digitRun = 0;
  let ibanHead = false;
  for (let i = start; i < end; i += 2) {
    const k = CLASS[buf[i]!]!;
    if ((k & DIGIT_RUN) === 0) continue;
    // a separator probe matters only next to a digit (spaces in prose are not runs)
    if ((k & DIGIT) === 0 && !(i > start && CLASS[buf[i - 1]!]! & DIGIT) && !(i + 1 < end && CLASS[buf[i + 1]!]! & DIGIT)) continue;
    let runStart = i;
    while (runStart > start && CLASS[buf[runStart - 1]!]! & DIGIT_RUN) runStart--;
    let digits = 0;
    let j = runStart;
    for (; j < end; j++) {
      const k = CLASS[buf[j]!]!;
      if ((k & DIGIT_RUN) === 0) break;
      if (k & DIGIT) digits++;
    }
    if (j - runStart >= 2 && digits > digitRun) digitRun = digits;
    // an IBAN head is two uppercase letters right before two digits that start a run
    if (!ibanHead && runStart - 2 >= start && j - runStart >= 2) {
      ibanHead = (CLASS[buf[runStart - 2]!]! & UPPER) !== 0 && (CLASS[buf[runStart - 1]!]! & UPPER) !== 0 &&
        (CLASS[buf[runStart]!]! & DIGIT) !== 0 && (CLASS[buf[runStart + 1]!]! & DIGIT) !== 0;
    }
    i = j - 1; // the next probe lands on j + 1; j itself ends the run
  }
  let longBase64Run = false;
  for (let i = start + LONG_BASE64_RUN - 1; i < end && !longBase64Run; i += LONG_BASE64_RUN) {
    if ((CLASS[buf[i]!]! & BASE64) === 0) continue;
    let runStart = i;
    while (runStart > start && CLASS[buf[runStart - 1]!]! & BASE64) runStart--;
    let j = i + 1;
    while (j < end && CLASS[buf[j]!]! & BASE64) j++;
    longBase64Run = j - runStart >= LONG_BASE64_RUN;
    // the next run starts after j, so its 40th byte is at j + 40 or later
    i = j;
  }
  out.digitRun = digitRun;
  out.ibanHead = ibanHead;
  out.longBase64Run = longBase64Run;
}

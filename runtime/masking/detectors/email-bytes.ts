import type { SpanSink } from "./types.js";

const AT = 0x40;
const DOT = 0x2e;
const DASH = 0x2d;
const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;

const LOCAL = 1; // [A-Za-z0-9._%+-]
const DOMAIN = 2; // [A-Za-z0-9.-]
const LETTER = 4;

const CLASS = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = LOCAL | DOMAIN;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = LOCAL | DOMAIN | LETTER;
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] = LOCAL | DOMAIN | LETTER;
CLASS[DOT] = LOCAL | DOMAIN;
CLASS[DASH] = LOCAL | DOMAIN;
CLASS[0x5f] = LOCAL; // _
CLASS[0x25] = LOCAL; // %
CLASS[0x2b] = LOCAL; // +

/**
 * The email detector's matches found on raw UTF-8, spans as byte offsets. Every character the
 * address rule accepts is ASCII and no byte of a multi-byte character is ASCII, so this finds
 * exactly what `email.find` finds on the decoded text: the same candidates as its regex (an `@`
 * after a run of 1–64 local-part characters that starts at or after the previous candidate's
 * end, then 1–253 domain characters), validated the same way. The local part is validated
 * while its run is measured, backwards from the `@`.
 */
export function findEmailBytes(buf: Uint8Array, start: number, end: number, sink: SpanSink): void {
  let previousEnd = start;
  for (let at = nextAt(buf, start, end); at >= 0; ) {
    // the run of local-part characters before the `@`, at most one longer than allowed
    let from = at;
    /** start of the rightmost `..` in the run, -1: none */
    let doubleDot = -1;
    /** the leftmost character that is not a dot: the local part starts there */
    let local = at;
    const limit = Math.max(start, at - MAX_LOCAL - 1);
    while (from > limit) {
      const c = buf[from - 1]!;
      if ((CLASS[c]! & LOCAL) === 0) break;
      from--;
      if (c !== DOT) local = from;
      else if (doubleDot < 0 && buf[from + 1] === DOT) doubleDot = from;
    }
    let matchEnd = at + 1;
    const domainLimit = Math.min(end, at + 1 + MAX_DOMAIN);
    while (matchEnd < domainLimit && (CLASS[buf[matchEnd]!]! & DOMAIN) !== 0) matchEnd++;
    const isCandidate = from < at && at - from <= MAX_LOCAL && (from === start || (CLASS[buf[from - 1]!]! & LOCAL) === 0) &&
      from >= previousEnd && matchEnd > at + 1;
    if (!isCandidate) {
      at = nextAt(buf, at + 1, end);
      continue;
    }
    previousEnd = matchEnd;
    // leading dots belong to the text around, not to the address; a `..` there does not count
    if (local < at && buf[at - 1] !== DOT && doubleDot < local) {
      const domainEnd = validDomainEnd(buf, at + 1, matchEnd);
      if (domainEnd > 0) sink(local, domainEnd);
    }
    at = nextAt(buf, matchEnd, end);
  }
}

/** Below this many bytes a loop finds the next `@` cheaper than a native call. */
const SHORT_SEARCH = 32;

/** The first `@` in `buf[from, end)`, or -1. */
function nextAt(buf: Uint8Array, from: number, end: number): number {
  if (end - from > SHORT_SEARCH) {
    const at = buf.indexOf(AT, from);
    return at < end ? at : -1;
  }
  for (let i = from; i < end; i++) if (buf[i] === AT) return i;
  return -1;
}

/** `validDomainEnd` of email.ts on bytes. */
function validDomainEnd(buf: Uint8Array, from: number, to: number): number {
  let end = to;
  while (end > from && (buf[end - 1] === DOT || buf[end - 1] === DASH)) end--;
  let labels = 0;
  let labelStart = from;
  for (let i = from; i <= end; i++) {
    if (i < end && buf[i] !== DOT) continue;
    const length = i - labelStart;
    if (length === 0 || length > 63 || buf[labelStart] === DASH || buf[i - 1] === DASH) return -1;
    labels++;
    if (i < end) labelStart = i + 1;
  }
  if (labels < 2 || end - labelStart < 2) return -1;
  for (let i = labelStart; i < end; i++) if ((CLASS[buf[i]!]! & LETTER) === 0) return -1;
  return end;
}

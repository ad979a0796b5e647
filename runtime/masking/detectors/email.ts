import { findEmailBytes } from "./email-bytes.js";
import type { Detector, SpanSink } from "./types.js";

// Local part anchored at the start of its run (the lookbehind) and bounded to RFC 5321's
// 64 characters, so each position is tried once and the scan stays linear.
const CANDIDATE = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}/g;

const DOT = 0x2e;
const DASH = 0x2d;

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/**
 * End of the valid domain in `text[from, to)` (trailing dots and dashes dropped), or -1:
 * two or more labels of 1–63 characters not starting or ending with `-`, and an
 * alphabetic top-level label of two or more letters.
 */
function validDomainEnd(text: string, from: number, to: number): number {
  let end = to;
  while (end > from && (text.charCodeAt(end - 1) === DOT || text.charCodeAt(end - 1) === DASH)) end--;
  let labels = 0;
  let labelStart = from;
  for (let i = from; i <= end; i++) {
    if (i < end && text.charCodeAt(i) !== DOT) continue;
    const length = i - labelStart;
    if (length === 0 || length > 63 || text.charCodeAt(labelStart) === DASH || text.charCodeAt(i - 1) === DASH) return -1;
    labels++;
    if (i < end) labelStart = i + 1;
  }
  if (labels < 2 || end - labelStart < 2) return -1;
  for (let i = labelStart; i < end; i++) if (!isLetter(text.charCodeAt(i))) return -1;
  return end;
}

/** A local part may not start or end with a dot, nor hold two in a row. */
function validLocal(text: string, from: number, at: number): boolean {
  if (text.charCodeAt(at - 1) === DOT) return false;
  for (let i = from + 1; i < at; i++) if (text.charCodeAt(i) === DOT && text.charCodeAt(i - 1) === DOT) return false;
  return true;
}

export const email: Detector = {
  name: "email",
  minBytes: 6, // a@b.cd
  prefilter: { needles: ["@"] },
  regexes: [CANDIDATE],
  findBytes: findEmailBytes,
  find(text: string, sink: SpanSink): void {
    CANDIDATE.lastIndex = 0;
    for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
      const matchEnd = m.index + m[0].length;
      const at = text.indexOf("@", m.index);
      // leading dots belong to the text around, not to the address
      let start = m.index;
      while (start < at && text.charCodeAt(start) === DOT) start++;
      if (start === at || !validLocal(text, start, at)) continue;
      const end = validDomainEnd(text, at + 1, matchEnd);
      if (end > 0) sink(start, end);
    }
  },
};

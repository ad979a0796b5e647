import type { Detector, SpanSink } from "./types.js";

// 13–19 digits, optionally grouped by single spaces or dashes, not inside a longer number.
const CANDIDATE = /(?<![0-9])[1-9](?:[ -]?[0-9]){12,18}(?![0-9])/g;

/** The Luhn (mod 10) check. */
function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 0x30;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

export const creditCard: Detector = {
  name: "credit_card",
  minBytes: 13, // 13 digits
  prefilter: { digitRun: 13 },
  regexes: [CANDIDATE],
  find(text: string, sink: SpanSink): void {
    CANDIDATE.lastIndex = 0;
    for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
      if (luhnValid(m[0].replace(/[ -]/g, ""))) sink(m.index, m.index + m[0].length);
    }
  },
};

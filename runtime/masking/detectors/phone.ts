import type { Detector, SpanSink } from "./types.js";

// E.164 compact (+14155552671), international with separators (+44 20 7946 0958), and
// NANP with separators or parentheses ((415) 555-2671, 415-555-2671, 415.555.2671,
// +1 415 555 2671). Ten bare digits are not matched: they are more often ids than phones.
const CANDIDATE = new RegExp(
  "(?<![0-9A-Za-z+])(?:" +
    "\\+[1-9][0-9]{7,14}" +
    "|\\+[1-9][0-9]{0,3}(?:[ .-][0-9]{1,8}){1,5}" +
    "|(?:\\+?1[ .-]?)?(?:\\([2-9][0-9]{2}\\) ?|[2-9][0-9]{2}[ .-])[2-9][0-9]{2}[ .-][0-9]{4}" +
    ")(?![0-9])",
  "g",
);

function digitCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) n++;
  }
  return n;
}

export const phone: Detector = {
  name: "phone",
  minBytes: 9, // + and 8 digits
  prefilter: { digitRun: 8, shape: "phoneShape" },
  regexes: [CANDIDATE],
  find(text: string, sink: SpanSink): void {
    CANDIDATE.lastIndex = 0;
    for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
      const digits = digitCount(m[0]);
      // E.164 allows at most 15 digits; the international forms need at least 8.
      if (digits >= 8 && digits <= 15) sink(m.index, m.index + m[0].length);
    }
  },
};

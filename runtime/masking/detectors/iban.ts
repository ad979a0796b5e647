import type { Detector, SpanSink } from "./types.js";

// Country code, check digits, then the BBAN either compact or in space-separated groups of
// four with an optional shorter last group (the printed form).
const CANDIDATE =
  /(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)(?![A-Za-z0-9])/g;

/** ISO 13616: 15–34 characters, check digits 02–98, and the mod-97 remainder is 1. */
function ibanValid(compact: string): boolean {
  if (compact.length < 15 || compact.length > 34) return false;
  const check = Number(compact.slice(2, 4));
  if (check < 2 || check > 98) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    // digits stay, letters become 10–35 (two digits)
    remainder = c <= 0x39 ? (remainder * 10 + (c - 0x30)) % 97 : (remainder * 100 + (c - 55)) % 97;
  }
  return remainder === 1;
}

export const iban: Detector = {
  name: "iban",
  minBytes: 15, // the shortest IBAN (Norway)
  prefilter: { ibanHead: true },
  regexes: [CANDIDATE],
  find(text: string, sink: SpanSink): void {
    CANDIDATE.lastIndex = 0;
    for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
      let candidate = m[0];
      if (ibanValid(candidate.replace(/ /g, ""))) {
        sink(m.index, m.index + candidate.length);
        continue;
      }
      // A short trailing group may be the next word ("… 7654 32 AND"): retry without it.
      const lastSpace = candidate.lastIndexOf(" ");
      if (lastSpace > 0 && candidate.length - lastSpace <= 4) {
        candidate = candidate.slice(0, lastSpace);
        if (ibanValid(candidate.replace(/ /g, ""))) sink(m.index, m.index + candidate.length);
      }
    }
  },
};

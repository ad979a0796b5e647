import type { Detector, SpanSink } from "./types.js";

// AAA-GG-SSSS with dashes or with spaces (the same separator twice). Nine bare digits are
// not matched: too many ids and amounts look like that.
const CANDIDATE = /(?<![0-9-])([0-9]{3})([- ])([0-9]{2})\2([0-9]{4})(?![0-9]|-[0-9])/g;

/** The SSA never issues area 000, 666 or 900–999, group 00, or serial 0000. */
function issuable(area: string, group: string, serial: string): boolean {
  return area !== "000" && area !== "666" && area[0] !== "9" && group !== "00" && serial !== "0000";
}

export const usSsn: Detector = {
  name: "us_ssn",
  minBytes: 11, // AAA-GG-SSSS
  prefilter: { digitRun: 9, shape: "ssnShape" },
  regexes: [CANDIDATE],
  find(text: string, sink: SpanSink): void {
    CANDIDATE.lastIndex = 0;
    for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
      if (issuable(m[1]!, m[3]!, m[4]!)) sink(m.index, m.index + m[0].length);
    }
  },
};

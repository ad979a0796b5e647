import type { Detector, SpanSink } from "./types.js";

// Long-term (AKIA) and temporary (ASIA) access key ids: the prefix and 16 more characters.
const CANDIDATE = /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/g;

export const awsAccessKey: Detector = {
  name: "aws_access_key",
  minBytes: 20,
  prefilter: { needles: ["AKIA", "ASIA"] },
  regexes: [CANDIDATE],
  find(text: string, sink: SpanSink): void {
    CANDIDATE.lastIndex = 0;
    for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
      sink(m.index, m.index + m[0].length);
    }
  },
};

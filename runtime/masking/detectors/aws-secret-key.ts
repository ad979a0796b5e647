import type { Detector, SpanSink } from "./types.js";

// A standalone run of exactly 40 base64 characters (not part of a longer run or of padded
// base64). Database values usually hold a secret alone, with no "aws_secret" label nearby,
// so the rule is context-free; see README.md for the false-positive trade-off.
const CANDIDATE = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;

/**
 * A real secret is random: it has upper and lower case letters and a digit. This keeps
 * hex digests (SHA-1, git commit ids), single-case tokens and plain words out.
 */
function looksRandom(s: string): boolean {
  return /[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s);
}

export const awsSecretKey: Detector = {
  name: "aws_secret_key",
  minBytes: 40,
  prefilter: { longBase64Run: true },
  regexes: [CANDIDATE],
  find(text: string, sink: SpanSink): void {
    CANDIDATE.lastIndex = 0;
    for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
      if (looksRandom(m[0])) sink(m.index, m.index + m[0].length);
    }
  },
};

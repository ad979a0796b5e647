import type { Detector, SpanSink } from "./types.js";

// Local part anchored at the start of its run (the lookbehind) and bounded to RFC 5321's
// 64 characters, so each position is tried once and the scan stays linear.
const CANDIDATE = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}/g;

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** Length of the valid domain at the start of `domain` (trailing dots and dashes dropped), or 0. */
function validDomainLength(domain: string): number {
  let end = domain.length;
  while (end > 0 && (domain[end - 1] === "." || domain[end - 1] === "-")) end--;
  const labels = domain.slice(0, end).split(".");
  if (labels.length < 2) return 0;
  for (const label of labels) {
    if (label.length === 0 || label.length > 63 || label.startsWith("-") || label.endsWith("-")) return 0;
  }
  const tld = labels[labels.length - 1]!;
  if (tld.length < 2) return 0;
  for (let i = 0; i < tld.length; i++) if (!isLetter(tld.charCodeAt(i))) return 0;
  return end;
}

export const email: Detector = {
  name: "email",
  minBytes: 6, // a@b.cd
  prefilter: { needles: ["@"] },
  regexes: [CANDIDATE],
  find(text: string, sink: SpanSink): void {
    CANDIDATE.lastIndex = 0;
    for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
      const at = m[0].indexOf("@");
      let start = 0;
      while (start < at && m[0][start] === ".") start++;
      if (start === at || m[0][at - 1] === "." || m[0].slice(start, at).includes("..")) continue;
      const domainLength = validDomainLength(m[0].slice(at + 1));
      if (domainLength > 0) sink(m.index + start, m.index + at + 1 + domainLength);
    }
  },
};

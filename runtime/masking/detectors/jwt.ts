import type { Detector, SpanSink } from "./types.js";

// header.payload.signature in base64url; the header of any JWT starts `{"` → `eyJ`. The
// signature may be empty (alg "none"). Anchored at a token start, so linear.
const CANDIDATE = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

const MAX_HEADER = 4096;

/** The header decodes to a JSON object with a string `alg`. */
function hasJwtHeader(header: string): boolean {
  if (header.length > MAX_HEADER) return false;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
    return typeof parsed === "object" && parsed !== null && typeof (parsed as { alg?: unknown }).alg === "string";
  } catch {
    return false;
  }
}

export const jwt: Detector = {
  name: "jwt",
  minBytes: 17, // the header {"alg":""} is 14 characters, then ".x."
  prefilter: { needles: ["eyJ"] },
  regexes: [CANDIDATE],
  find(text: string, sink: SpanSink): void {
    CANDIDATE.lastIndex = 0;
    for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
      if (hasJwtHeader(m[0].slice(0, m[0].indexOf(".")))) sink(m.index, m.index + m[0].length);
    }
  },
};

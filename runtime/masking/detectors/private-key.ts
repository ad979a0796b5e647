import type { Detector, SpanSink } from "./types.js";

// PEM (PKCS#1, PKCS#8, SEC1, OpenSSH, encrypted) and PGP armored private keys.
const BEGIN = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;
const END = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;

export const privateKey: Detector = {
  name: "private_key",
  minBytes: 27, // the BEGIN line alone
  prefilter: { needles: ["-----BEGIN"] },
  regexes: [BEGIN, END],
  find(text: string, sink: SpanSink): void {
    BEGIN.lastIndex = 0;
    for (let m = BEGIN.exec(text); m !== null; m = BEGIN.exec(text)) {
      END.lastIndex = BEGIN.lastIndex;
      const end = END.exec(text);
      // A block with no END line (truncated, or cut by a column width) is still a secret:
      // mask to the end of the value.
      if (end === null) {
        sink(m.index, text.length);
        return;
      }
      sink(m.index, END.lastIndex);
      BEGIN.lastIndex = END.lastIndex;
    }
  },
};

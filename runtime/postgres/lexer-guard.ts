// The gateway decides statements from its own parse of the text, which is right only while the
// server reads text the same way: an ASCII-safe client encoding and
// standard_conforming_strings = on (runtime/facts/sql/lexer-settings.ts refuses statements that
// change them). This guards the two other ways in: the startup packet, and a server that
// reports another value mid-session (ALTER ROLE … SET, a function's SET clause gone wrong, code
// whose body the facts cannot read). A report comes only at the next ReadyForQuery: what was
// pipelined behind the code is the pipeline barrier's (pipeline-barrier.ts).

import { readCString } from "./messages.js";

/**
 * PostgreSQL's client-only encodings, by every alias its encoding table knows (normalized as the
 * server does: lowercase, letters and digits only). In these a multibyte character's trailing
 * byte can be a backslash; every other encoding keeps bytes below 0x80 ASCII, so the gateway's
 * reading of the text has the same quotes, backslashes and semicolons as the server's.
 */
const NOT_ASCII_SAFE = new Set([
  "big5", "win950", "windows950", "gb18030", "gbk", "win936", "windows936", "johab", "uhc", "win949",
  "windows949", "sjis", "shiftjis", "mskanji", "win932", "windows932", "shiftjis2004",
]);

export function clientEncodingProblem(value: string): string | undefined {
  return NOT_ASCII_SAFE.has(normalized(value)) ? `client_encoding ${value} is not supported through the gateway: use UTF8` : undefined;
}

/** A ParameterStatus message ('S') whose value would make the server read statements differently. */
export function parameterStatusProblem(frame: Buffer): string | undefined {
  const { value: name, next } = readCString(frame, 5);
  const { value } = readCString(frame, next);
  if (name === "standard_conforming_strings" && value !== "on") {
    return "the server turned standard_conforming_strings off: the gateway can no longer read statements as the server does";
  }
  // The upstream startup always asks for UTF8 (server-connect.ts, pg-protocol's startup), and the
  // gateway decodes every text as UTF-8: a server reporting any other encoding later was moved
  // by code the facts do not see. Even an ASCII-safe one (LATIN1) reads the bytes of a non-ASCII
  // name as other characters — `"cart\xe9s"` is the denied "cartés" to the server and "cart�s"
  // to the gateway.
  if (name === "client_encoding" && !UTF8.has(normalized(value))) {
    return `the server's client_encoding became ${value}: the gateway reads statements as UTF-8`;
  }
  return undefined;
}

/** PostgreSQL's names for UTF-8, normalized */
const UTF8 = new Set(["utf8", "unicode"]);

function normalized(encoding: string): string {
  return encoding.toLowerCase().replace(/[^a-z0-9]/g, "");
}

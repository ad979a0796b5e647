// How large a client's messages may be. Any message up to 64 MiB (COPY data comes in messages of
// the client's choosing); a statement — a Query, or a Parse — only up to the gateway's statement
// limit, because every statement is parsed on the gateway's thread before it runs (a dense
// multi-row INSERT costs about half a second and 60–90 MB of memory per MiB of text) and recorded.
// A larger one ends the session with FATAL 54000 at its header: nothing of it is buffered,
// parsed, forwarded or recorded (the session's end record names the limit). Ending the session
// rather than skipping the message keeps the stream simple and is what PgBouncer does past its
// max_packet_size.

import { MessageTooLarge } from "./framing.js";
import type { ErrorFields } from "./messages.js";

/** the largest message of any type a client may send */
export const MAX_CLIENT_MESSAGE = 64 * 1024 * 1024;

/**
 * The default statement limit, 1 MiB: far beyond what applications and ORMs send (a Parse of a
 * 1,000-row INSERT with parameters is tens of KiB; libpq and most drivers send bulk data with
 * COPY), while a statement at the limit holds the gateway's thread for about half a second.
 */
export const DEFAULT_MAX_STATEMENT_BYTES = 1024 * 1024;

const QUERY = 0x51;
const PARSE = 0x50;

/** the Framer's typeLimits for a client stream */
export function statementLimits(maxStatementBytes = DEFAULT_MAX_STATEMENT_BYTES): ReadonlyMap<number, number> {
  return new Map([[QUERY, maxStatementBytes], [PARSE, maxStatementBytes]]);
}

/** the FATAL that ends a session whose client sent a statement over the limit; undefined for any other error */
export function statementTooLarge(err: unknown): ErrorFields | undefined {
  if (!(err instanceof MessageTooLarge) || (err.type !== QUERY && err.type !== PARSE)) return undefined;
  return {
    severity: "FATAL",
    code: "54000",
    message: `statement too large: a ${err.type === QUERY ? "Query" : "Parse"} message of ${err.size} bytes is over the gateway's limit of ${err.limit} (limits.max_statement_size); the session is ended without reading it`,
    hint: "send bulk data with COPY … FROM STDIN, or split the statement",
  };
}

// How much a session may make the gateway remember about names. Prepared statements and portals
// are kept by name (what each stands for, as the server confirmed it; refused and approved
// names), and a name is the client's to choose — protocol names have no length limit in
// PostgreSQL. Without bounds, Parses with unique megabyte-long names, each refused, grew the
// gateway's memory until the process died, with every other session (red team round 4). A
// session that passes a name bound ends with FATAL 54000; drivers stay far below them (pgjdbc
// caches 256 statements, names like S_12). Prepared statements are different: some drivers
// never close theirs (porsager's `postgres` prepares every query), so past their bounds the
// oldest are forgotten instead (result-rewriter.ts).

import { SessionEnd } from "./messages.js";

/** the longest statement or portal name, in UTF-16 code units */
export const MAX_NAME_LENGTH = 1024;
/** the most portals or refused names a session may have the gateway remember, each */
export const MAX_NAMES = 10_000;
/** the most prepared statements the gateway remembers for a session; older ones are forgotten */
export const MAX_PREPARED = 20_000;
/** the most characters of statement text the prepared statements it remembers may hold together */
export const MAX_PREPARED_TEXT = 32 * 1024 * 1024;

/** throws when a name read from the client is longer than MAX_NAME_LENGTH */
export function checkName(name: string): void {
  if (name.length > MAX_NAME_LENGTH) {
    throw tooMuch(`a prepared statement or portal name longer than ${MAX_NAME_LENGTH} characters`);
  }
}

export function tooMuch(what: string): SessionEnd {
  return new SessionEnd({ severity: "FATAL", code: "54000", message: `${what}: session closed` });
}

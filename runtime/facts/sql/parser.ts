// The PostgreSQL parser (libpg-query: the server's own grammar compiled to WebAssembly).

import { hasSqlDetails, loadModule, parseSync, type ParseResult } from "libpg-query";

let loading: Promise<void> | undefined;
let ready = false;

/** Loads the WebAssembly parser once; later calls return the same promise. */
export function loadSqlParser(): Promise<void> {
  loading ??= loadModule().then(
    () => {
      ready = true;
    },
    (error: unknown) => {
      loading = undefined;
      throw new Error(`cannot load the PostgreSQL parser (libpg-query): ${String(error)}`);
    },
  );
  return loading;
}

export function assertParserLoaded(): void {
  if (!ready) throw new Error("the SQL parser is not loaded: await loadSqlParser() before extractSqlFacts()");
}

export type ParseOutcome = { ok: true; tree: ParseResult } | { ok: false; error: string; position?: number };

export function parse(text: string): ParseOutcome {
  try {
    return { ok: true, tree: parseSync(text) };
  } catch (error) {
    if (hasSqlDetails(error)) {
      const position = error.sqlDetails?.cursorPosition;
      return { ok: false, error: error.message, ...(position !== undefined ? { position } : {}) };
    }
    return { ok: false, error: `the SQL parser failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

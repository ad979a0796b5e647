// The engine's entry point: a validated bundle wired to the real fact extractors.

import { loadSqlParser, extractSqlFacts } from "../facts/sql/index.js";
import { extractShellFacts, sessionFacts } from "../facts/shell/index.js";
import { Engine } from "./engine.js";

export { Engine, type OpenSessionResult } from "./engine.js";
export { EngineSession } from "./session.js";
export type * from "./types.js";

export async function loadEngine(json: unknown): Promise<Engine> {
  const engine = new Engine(json, {
    sql: extractSqlFacts,
    shell: extractShellFacts,
    sshSession: sessionFacts,
  });
  await loadSqlParser();
  return engine;
}

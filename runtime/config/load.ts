// loadConfig: read gateway.yaml (or .json), validate it against the schema, resolve it.

import { readFile } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "./errors.js";
import { resolveConfig } from "./resolve.js";
import { errorCode } from "./secrets.js";
import { validateConfig } from "./validate.js";
import type { GatewayConfig } from "./types.js";

export async function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<GatewayConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError(file, [{ path: "", message: `cannot read the file (${errorCode(error)})` }]);
  }
  const validation = validateConfig(parseDocument(file, text));
  if (!validation.ok) throw new ConfigError(file, validation.issues);
  const resolved = await resolveConfig(validation.config, dirname(file), env);
  if (!resolved.ok) throw new ConfigError(file, resolved.issues);
  return { file, ...resolved.config };
}

/** JSON is YAML 1.2, so one parser reads both. Only the message's first line is kept: the
 * code frame after it would quote the file, secrets included. */
function parseDocument(file: string, text: string): unknown {
  try {
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split("\n")[0]?.replace(/:$/, "");
    throw new ConfigError(file, [{ path: "", message: `not valid ${extname(file) === ".json" ? "JSON" : "YAML"}: ${message}` }]);
  }
}

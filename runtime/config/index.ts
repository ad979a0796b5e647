export { loadConfig } from "./load.js";
export { ConfigError, formatIssue, type ConfigIssue } from "./errors.js";
export type * from "./types.js";

// The gateway's structured logger: pino, JSON lines to stderr unless a destination is given.
// Secrets that might ride along in logged objects are redacted by key name.

import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** from the config file; `HOOPGATE_LOG_LEVEL` overrides it; default `info` */
  level?: LogLevel;
  name?: string;
  /** default: stderr */
  destination?: DestinationStream;
}

const REDACTED_KEYS = ["password", "token", "privateKey", "private_key", "authorization", "secret"];

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = resolveLevel(process.env.HOOPGATE_LOG_LEVEL, options.level);
  return pino(
    {
      name: options.name ?? "hoopgate",
      level,
      redact: {
        paths: REDACTED_KEYS.flatMap((key) => [key, `*.${key}`]),
        censor: "[redacted]",
      },
    },
    options.destination ?? pino.destination(2),
  );
}

function resolveLevel(fromEnv: string | undefined, fromConfig: LogLevel | undefined): LogLevel {
  if (fromEnv === undefined || fromEnv === "") return fromConfig ?? "info";
  const level = LOG_LEVELS.find((l) => l === fromEnv.toLowerCase());
  if (level === undefined) {
    throw new Error(`HOOPGATE_LOG_LEVEL: unknown log level "${fromEnv}" (use ${LOG_LEVELS.join(", ")})`);
  }
  return level;
}

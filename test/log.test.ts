import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../runtime/log.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(JSON.parse(line)) } };
}

afterEach(() => {
  delete process.env.HOOPGATE_LOG_LEVEL;
});

describe("createLogger", () => {
  it("writes JSON lines at the configured level and redacts secrets by key", () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: "warn", destination });
    log.info("hidden");
    log.warn({ connection: { name: "db", password: "hunter2" }, token: "eyJ..." }, "shown");
    expect(lines).toEqual([expect.objectContaining({
      level: 40, name: "hoopgate", msg: "shown", token: "[redacted]", connection: { name: "db", password: "[redacted]" },
    })]);
  });

  it("lets HOOPGATE_LOG_LEVEL override the config and refuses unknown levels", () => {
    process.env.HOOPGATE_LOG_LEVEL = "DEBUG";
    const { lines, destination } = capture();
    createLogger({ level: "error", destination }).debug("shown");
    expect(lines).toHaveLength(1);
    process.env.HOOPGATE_LOG_LEVEL = "loud";
    expect(() => createLogger()).toThrow('HOOPGATE_LOG_LEVEL: unknown log level "loud" (use fatal, error, warn, info, debug, trace, silent)');
  });
});

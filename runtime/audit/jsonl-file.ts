// An append-only JSON-lines audit file. Records are buffered and appended in batches on a short
// timer (or at once past a size cap), so a busy data path costs one write per interval instead
// of one per event-loop turn. Each batch is one synchronous append: batches land in order, and
// whatever is still buffered when the process exits is written by an `exit` hook, so close(),
// process.exit() and an uncaught exception all keep every accepted record. A write error makes
// every later record fail, so callers fail closed instead of losing records silently. What waits
// is at most a buffer's worth, written on this thread: the file never falls behind, so it asks for
// no backpressure (sink.ts).

import { closeSync, openSync, writeSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { AuditEntry, AuditSink, SessionEndedRecord, SessionStartedRecord, StatementRecord } from "./sink.js";

/** Longest a record waits in memory. */
const FLUSH_INTERVAL_MS = 20;
/** Buffered characters that trigger a write at once. */
const FLUSH_CHARS = 1 << 20;

export async function openJsonlAuditFile(path: string): Promise<AuditSink> {
  await mkdir(dirname(path), { recursive: true });
  return new JsonlAuditFile(openSync(path, "a", 0o600), path);
}

class JsonlAuditFile implements AuditSink {
  private pending = "";
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private closed = false;
  private readonly onExit = (): void => this.flush();

  constructor(
    private readonly fd: number,
    private readonly path: string,
  ) {
    process.on("exit", this.onExit);
  }

  sessionStarted(record: SessionStartedRecord): Promise<void> {
    return this.append({ type: "session_started", time: new Date().toISOString(), ...record });
  }

  statement(record: StatementRecord): Promise<void> {
    return this.append({ type: "statement", time: new Date().toISOString(), ...record });
  }

  sessionEnded(record: SessionEndedRecord): Promise<void> {
    return this.append({ type: "session_ended", time: new Date().toISOString(), ...record });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    process.off("exit", this.onExit);
    closeSync(this.fd);
    if (this.failure) throw this.failure;
  }

  private append(entry: AuditEntry): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error(`audit file ${this.path} is closed`));
    this.pending += `${JSON.stringify(entry)}\n`;
    if (this.pending.length >= FLUSH_CHARS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
    return Promise.resolve();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0 || this.failure) return;
    const batch = Buffer.from(this.pending, "utf8");
    this.pending = "";
    try {
      for (let written = 0; written < batch.length; ) written += writeSync(this.fd, batch, written);
    } catch (error) {
      this.failure = new Error(`audit file ${this.path} cannot be written: ${(error as Error).message}`);
    }
  }
}

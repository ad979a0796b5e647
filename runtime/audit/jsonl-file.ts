// An append-only JSON-lines audit file. Records are buffered and written in batches on the
// next turn of the event loop, so the data path never waits on the disk; a write error
// makes every later record fail, so callers fail closed instead of losing records silently.

import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { AuditEntry, AuditSink, SessionEndedRecord, SessionStartedRecord, StatementRecord } from "./sink.js";

export async function openJsonlAuditFile(path: string): Promise<AuditSink> {
  await mkdir(dirname(path), { recursive: true });
  const stream = createWriteStream(path, { flags: "a", mode: 0o600 });
  await new Promise<void>((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", reject);
  });
  return new JsonlAuditFile(stream, path);
}

class JsonlAuditFile implements AuditSink {
  private pending: string[] = [];
  private scheduled = false;
  private failure: Error | undefined;
  private closed = false;

  constructor(
    private readonly stream: WriteStream,
    private readonly path: string,
  ) {
    stream.on("error", (error) => {
      this.failure ??= new Error(`audit file ${path} cannot be written: ${error.message}`);
    });
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
    await new Promise<void>((resolve) => this.stream.end(resolve));
    if (this.failure) throw this.failure;
  }

  private append(entry: AuditEntry): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error(`audit file ${this.path} is closed`));
    this.pending.push(`${JSON.stringify(entry)}\n`);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return Promise.resolve();
  }

  private flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || this.failure) return;
    this.stream.write(this.pending.join(""));
    this.pending = [];
  }
}

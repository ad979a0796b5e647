// A raw PostgreSQL wire client for tests that need message batches no driver sends: extended
// messages without a Sync, a simple Query pipelined behind them.

import { connect, type Socket } from "node:net";
import { serialize } from "pg-protocol";

export interface WireMessage {
  type: string;
  /** ErrorResponse: the M field; CommandComplete: the tag; DataRow: its columns' text joined by "," */
  text?: string;
  /** ErrorResponse: SQLSTATE */
  code?: string;
}

export class Wire {
  private buffered = Buffer.alloc(0);
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (data: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, data]);
      this.wake?.();
    });
    socket.on("error", (err) => this.fail(err));
    socket.on("close", () => this.fail(new Error("connection closed")));
  }

  /** Connects and authenticates with `password` (the gateway asks for the token in cleartext on loopback). */
  static async open(port: number, database: string, password: string): Promise<Wire> {
    const socket = connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const wire = new Wire(socket);
    socket.write(serialize.startup({ user: "ci", database }));
    for (;;) {
      const m = await wire.next();
      if (m.type === "R" && m.code === "3") socket.write(serialize.password(password));
      else if (m.type === "E") throw new Error(`startup failed: ${m.text}`);
      else if (m.type === "Z") return wire;
    }
  }

  send(...frames: Buffer[]): void {
    this.socket.write(Buffer.concat(frames));
  }

  /** Messages up to and including the `count`-th ReadyForQuery. */
  async untilReady(count = 1): Promise<WireMessage[]> {
    const out: WireMessage[] = [];
    for (let seen = 0; seen < count; ) {
      const m = await this.next();
      out.push(m);
      if (m.type === "Z") seen++;
    }
    return out;
  }

  /** Messages up to the `count`-th ReadyForQuery, or up to the connection's end (then `closed`). */
  async untilReadyOrClosed(count = 1): Promise<{ messages: WireMessage[]; closed: boolean }> {
    const messages: WireMessage[] = [];
    try {
      for (let seen = 0; seen < count; ) {
        const m = await this.next();
        messages.push(m);
        if (m.type === "Z") seen++;
      }
      return { messages, closed: false };
    } catch (err) {
      if ((err as Error).message !== "connection closed") throw err;
      return { messages, closed: true };
    }
  }

  close(): void {
    this.socket.end(serialize.end());
    this.socket.destroy();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wake?.();
  }

  private async next(timeoutMs = 10_000): Promise<WireMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buffered.length >= 5 && this.buffered.length >= 1 + this.buffered.readInt32BE(1)) {
        const end = 1 + this.buffered.readInt32BE(1);
        const type = String.fromCharCode(this.buffered[0]!);
        const body = Buffer.from(this.buffered.subarray(5, end));
        this.buffered = this.buffered.subarray(end);
        return decode(type, body);
      }
      if (this.failure !== undefined) throw this.failure;
      if (Date.now() >= deadline) throw new Error("timed out waiting for a message");
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 100);
      });
    }
  }
}

function decode(type: string, body: Buffer): WireMessage {
  switch (type) {
    case "R":
      return { type, code: String(body.readInt32BE(0)) };
    case "E":
    case "N": {
      const out: WireMessage = { type };
      for (let at = 0; at < body.length && body[at] !== 0; ) {
        const nul = body.indexOf(0, at + 1);
        const value = body.toString("utf8", at + 1, nul);
        if (body[at] === 0x4d) out.text = value;
        if (body[at] === 0x43) out.code = value;
        at = nul + 1;
      }
      return out;
    }
    case "C":
      return { type, text: body.toString("utf8", 0, body.indexOf(0)) };
    case "D": {
      const columns: string[] = [];
      let at = 2;
      for (let i = body.readInt16BE(0); i > 0; i--) {
        const length = body.readInt32BE(at);
        at += 4;
        columns.push(length < 0 ? "NULL" : body.toString("utf8", at, at + length));
        if (length > 0) at += length;
      }
      return { type, text: columns.join(",") };
    }
    default:
      return { type };
  }
}

/** A short readable form of messages, for assertions: `E:42501 statement denied: …`, `D:…`, `C:SELECT 1`. */
export function trace(messages: readonly WireMessage[]): string[] {
  return messages.filter((m) => m.type !== "T").map((m) => (m.text !== undefined ? `${m.type}:${m.code !== undefined ? `${m.code} ` : ""}${m.text}` : m.type));
}

export const Parse = (text: string): Buffer => serialize.parse({ text, types: [] });
export const Bind = (): Buffer => serialize.bind({ values: [] });
export const Execute = (): Buffer => serialize.execute({});
export const Query = (text: string): Buffer => serialize.query(text);
export const Sync = (): Buffer => serialize.sync();

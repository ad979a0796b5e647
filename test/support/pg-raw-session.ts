// A raw PostgreSQL protocol session for tests that need message-level control: send any frontend
// messages (pg-protocol's `serialize`), read every backend message back, loosely decoded.

import { connect, type Socket } from "node:net";
import { serialize } from "pg-protocol";

export { serialize };

export interface Message {
  type: string;
  body: Buffer;
}

export class RawSession {
  private buffered: Buffer = Buffer.alloc(0);
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (data: Buffer) => {
      this.buffered = this.buffered.length === 0 ? data : Buffer.concat([this.buffered, data]);
      this.wake?.();
    });
    const fail = (err: Error): void => {
      this.failure ??= err;
      this.wake?.();
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed")));
  }

  /** connected and authenticated (cleartext password or trust), up to the first ReadyForQuery */
  static async open(conn: { host: string; port: number; user: string; database: string; password?: string }): Promise<RawSession> {
    const s = new RawSession(connect({ host: conn.host, port: conn.port }));
    s.socket.write(serialize.startup({ user: conn.user, database: conn.database, client_encoding: "UTF8" }));
    for (;;) {
      const m = await s.next();
      if (m.type === "R" && m.body.readInt32BE(0) === 3) s.socket.write(serialize.password(conn.password ?? ""));
      else if (m.type === "R" && m.body.readInt32BE(0) !== 0) throw new Error(`unsupported authentication request ${m.body.readInt32BE(0)}`);
      else if (m.type === "E") throw new Error(errorFields(m).M);
      else if (m.type === "Z") return s;
    }
  }

  send(...frames: Buffer[]): void {
    this.socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  }

  /** sends the frames in order, waiting whenever the gateway stops reading (the socket's buffer is full) */
  async sendAll(frames: Iterable<Buffer>): Promise<void> {
    for (const frame of frames) {
      if (this.failure !== undefined) throw this.failure;
      if (!this.socket.write(frame)) await new Promise<void>((resolve) => {
        const done = (): void => {
          this.socket.off("drain", done).off("close", done);
          resolve();
        };
        this.socket.on("drain", done).on("close", done);
      });
    }
  }

  /** the messages up to and including the n-th ReadyForQuery */
  async untilReady(n = 1): Promise<Message[]> {
    const out: Message[] = [];
    for (let seen = 0; seen < n; ) {
      const m = await this.next();
      out.push(m);
      if (m.type === "Z") seen += 1;
    }
    return out;
  }

  /** send, then read up to the ReadyForQuery of each Sync or Query sent */
  async run(...frames: Buffer[]): Promise<Message[]> {
    this.send(...frames);
    return this.untilReady(frames.filter((f) => f[0] === 0x53 || f[0] === 0x51).length);
  }

  async next(): Promise<Message> {
    for (;;) {
      const b = this.buffered;
      if (b.length >= 5 && b.length >= 1 + b.readInt32BE(1)) {
        const end = 1 + b.readInt32BE(1);
        this.buffered = b.subarray(end);
        return { type: String.fromCharCode(b[0]!), body: Buffer.from(b.subarray(5, end)) };
      }
      if (this.failure !== undefined) throw this.failure;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  close(): void {
    this.socket.end(serialize.end());
  }
}

/** a DataRow's values as text (null for SQL NULL) */
export function rowValues(m: Message): (string | null)[] {
  const values: (string | null)[] = [];
  let at = 2;
  for (let i = m.body.readInt16BE(0); i > 0; i--) {
    const length = m.body.readInt32BE(at);
    at += 4;
    values.push(length < 0 ? null : m.body.toString("utf8", at, at + length));
    if (length > 0) at += length;
  }
  return values;
}

/** every DataRow among the messages */
export function rowsOf(messages: readonly Message[]): (string | null)[][] {
  return messages.filter((m) => m.type === "D").map(rowValues);
}

/** an ErrorResponse's or NoticeResponse's fields by code */
export function errorFields(m: Message): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let at = 0; at < m.body.length && m.body[at] !== 0; ) {
    const end = m.body.indexOf(0, at + 1);
    fields[String.fromCharCode(m.body[at]!)] = m.body.toString("utf8", at + 1, end);
    at = end + 1;
  }
  return fields;
}

/** the SQLSTATEs of the ErrorResponses among the messages, in order */
export function errorCodes(messages: readonly Message[]): string[] {
  return messages.filter((m) => m.type === "E").map((m) => errorFields(m).C ?? "");
}

/** ParameterStatus messages as [name, value] */
export function parameterStatuses(messages: readonly Message[]): [string, string][] {
  return messages.filter((m) => m.type === "S").map((m) => {
    const nul = m.body.indexOf(0);
    return [m.body.toString("utf8", 0, nul), m.body.toString("utf8", nul + 1, m.body.length - 1)];
  });
}

// Pulls whole packets from a socket during the startup phases (client startup, upstream
// authentication), before the session switches the socket to streaming.

import type { Socket } from "node:net";
import { Framer, FramingError } from "../framing.js";

/** PostgreSQL's own limit for a startup packet */
const MAX_STARTUP_PACKET = 10_000;

export class PacketReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private waiter: (() => void) | null = null;
  private ended: Error | null = null;
  private readonly onData = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.size += chunk.length;
    this.wake();
  };
  private readonly onEnd = (): void => {
    this.ended ??= new FramingError("connection closed during startup");
    this.wake();
  };
  private readonly onError = (err: Error): void => {
    this.ended ??= err;
    this.wake();
  };

  /**
   * `timeoutMs`: how long each packet may take to arrive. `deadline` (a `Date.now()` time), when
   * given, bounds them all: a client's whole startup has one deadline, however it spaces its
   * packets (client-startup.ts).
   */
  constructor(
    private readonly socket: Socket,
    private readonly timeoutMs: number,
    private readonly deadline = Number.POSITIVE_INFINITY,
  ) {
    socket.on("data", this.onData);
    socket.on("end", this.onEnd);
    socket.on("close", this.onEnd);
    socket.on("error", this.onError);
  }

  /** a startup-phase packet: int32 length (itself included), then the body; no type byte */
  async readStartup(): Promise<Buffer> {
    await this.want(4);
    const length = this.peek(4).readInt32BE(0);
    if (length < 8 || length > MAX_STARTUP_PACKET) throw new FramingError(`invalid startup packet length ${length}`);
    await this.want(length);
    return this.take(length);
  }

  /** one typed message whose type is in `types` */
  async readMessage(types: ReadonlySet<number>, maxMessage: number): Promise<{ type: number; frame: Buffer }> {
    await this.want(5);
    const framer = new Framer({ types, maxMessage, maxStreamed: 0 });
    framer.push(this.peek(5));
    framer.next();
    const size = this.peek(5).readInt32BE(1) + 1;
    await this.want(size);
    const frame = this.take(size);
    return { type: frame[0]!, frame };
  }

  get buffered(): number {
    return this.size;
  }

  /** stop listening and hand back whatever arrived after the last packet */
  detach(): Buffer {
    this.socket.off("data", this.onData);
    this.socket.off("end", this.onEnd);
    this.socket.off("close", this.onEnd);
    this.socket.off("error", this.onError);
    const rest = Buffer.concat(this.chunks);
    this.chunks = [];
    this.size = 0;
    return rest;
  }

  private async want(n: number): Promise<void> {
    const deadline = Math.min(Date.now() + this.timeoutMs, this.deadline);
    while (this.size < n) {
      if (this.ended) throw this.ended;
      const left = deadline - Date.now();
      if (left <= 0) throw new FramingError("startup timed out");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
  }

  private wake(): void {
    this.waiter?.();
  }

  private peek(n: number): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.size -= n;
    return out;
  }
}

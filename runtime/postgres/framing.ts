// Splits a PostgreSQL byte stream into messages by type byte and length, without decoding them.
// Messages the caller marks streamable are handed on as runs of raw bytes (possibly cut at a
// chunk edge) so large results pass through with no copy; every other message comes out whole.
// A message over its limit is refused at its header, before any of it is buffered.

export class FramingError extends Error {}

/** A message over the limit for its type, refused at its header: none of its body was read. */
export class MessageTooLarge extends FramingError {
  constructor(
    readonly type: number,
    /** the whole message's size, type byte included */
    readonly size: number,
    readonly limit: number,
  ) {
    super(`message of ${size} bytes exceeds the limit of ${limit}`);
  }
}

export type Piece =
  /** a whole message: type byte, length, body */
  | { kind: "message"; type: number; frame: Buffer }
  /** raw bytes of one or more streamable messages; `messages` counts those that start here */
  | { kind: "run"; bytes: Buffer; messages: number };

export interface FramerOptions {
  /** largest whole message (type byte included) the caller accepts */
  maxMessage: number;
  /** largest streamable message */
  maxStreamed: number;
  /** type bytes allowed on this stream */
  types: ReadonlySet<number>;
  /** lower limits than `maxMessage` for whole messages of some types (a client's Query and Parse) */
  typeLimits?: ReadonlyMap<number, number>;
}

const EMPTY = Buffer.alloc(0);

export class Framer {
  /** evaluated at each message header: true → the message is passed on as raw bytes */
  streamable: (type: number) => boolean = () => false;
  private chunk: Buffer = EMPTY;
  private pos = 0;
  private readonly head = Buffer.alloc(5);
  private headFill = 0;
  private partial: Buffer | null = null;
  private partialFill = 0;
  private streamLeft = 0;

  /** 1 at the type bytes allowed on this stream */
  private readonly allowed = new Uint8Array(256);
  /** the largest whole message of each type */
  private readonly maxWhole = new Float64Array(256);

  constructor(private readonly options: FramerOptions) {
    for (const type of options.types) this.allowed[type] = 1;
    this.maxWhole.fill(options.maxMessage);
    for (const [type, limit] of options.typeLimits ?? []) this.maxWhole[type] = Math.min(limit, options.maxMessage);
  }

  /** the previous chunk must have been drained with next() */
  push(chunk: Buffer): void {
    if (this.pos < this.chunk.length) throw new Error("Framer.push before the previous chunk was drained");
    this.chunk = chunk;
    this.pos = 0;
  }

  /** true between messages: nothing buffered, no message cut */
  get atBoundary(): boolean {
    return this.headFill === 0 && this.partial === null && this.streamLeft === 0;
  }

  /** true while the rest of a message handed on as raw bytes is still to come */
  get inStreamedMessage(): boolean {
    return this.streamLeft > 0;
  }

  /** the next piece, or null when the chunk is used up; at most `maxRunMessages` messages start in a run */
  next(maxRunMessages = Number.MAX_SAFE_INTEGER): Piece | null {
    const chunk = this.chunk;
    if (this.partial !== null) return this.fillPartial();
    if (this.headFill > 0) return this.fillHead();
    const start = this.pos;
    let messages = 0;
    let runType = -1;
    for (;;) {
      if (this.streamLeft > 0) {
        const n = Math.min(this.streamLeft, chunk.length - this.pos);
        this.streamLeft -= n;
        this.pos += n;
        if (this.streamLeft > 0) break;
      }
      if (this.pos >= chunk.length || messages >= maxRunMessages) break;
      if (chunk.length - this.pos < 5) {
        if (this.pos > start) break;
        chunk.copy(this.head, 0, this.pos);
        this.headFill = chunk.length - this.pos;
        this.pos = chunk.length;
        return null;
      }
      const type = chunk[this.pos]!;
      // a run is cut by any message that is not streamed, so within it one answer per type holds
      const streamed = type === runType || this.streamable(type);
      const size = this.checkHeader(type, chunk.readInt32BE(this.pos + 1), streamed);
      if (streamed) {
        runType = type;
        messages += 1;
        this.streamLeft = size;
        continue;
      }
      if (this.pos > start) break;
      if (chunk.length - this.pos >= size) {
        const frame = chunk.subarray(this.pos, this.pos + size);
        this.pos += size;
        return { kind: "message", type, frame };
      }
      this.partial = Buffer.allocUnsafe(size);
      this.partialFill = chunk.copy(this.partial, 0, this.pos);
      this.pos = chunk.length;
      return null;
    }
    return this.pos > start ? { kind: "run", bytes: chunk.subarray(start, this.pos), messages } : null;
  }

  /**
   * The whole messages of `type` next in the chunk, at most `maxMessages`, as one run of raw
   * bytes (no copy); null when the next message is of another type or is cut at the chunk's end.
   * They are taken whole, so the limit of whole messages holds for them.
   */
  nextWhole(type: number, maxMessages: number): { bytes: Buffer; messages: number } | null {
    if (!this.atBoundary) return null;
    const chunk = this.chunk;
    const start = this.pos;
    let at = start;
    let messages = 0;
    while (messages < maxMessages && chunk.length - at >= 5 && chunk[at] === type) {
      const size = this.checkHeader(type, chunk.readInt32BE(at + 1), false);
      if (chunk.length - at < size) break;
      at += size;
      messages += 1;
    }
    if (messages === 0) return null;
    this.pos = at;
    return { bytes: chunk.subarray(start, at), messages };
  }

  private checkHeader(type: number, length: number, streamed: boolean): number {
    if (this.allowed[type] !== 1) {
      throw new FramingError(`unexpected message type 0x${type.toString(16).padStart(2, "0")}`);
    }
    if (length < 4) throw new FramingError(`invalid message length ${length}`);
    const limit = streamed ? this.options.maxStreamed : this.maxWhole[type]!;
    if (length + 1 > limit) throw new MessageTooLarge(type, length + 1, limit);
    return length + 1;
  }

  private fillHead(): Piece | null {
    const n = Math.min(5 - this.headFill, this.chunk.length - this.pos);
    this.chunk.copy(this.head, this.headFill, this.pos, this.pos + n);
    this.headFill += n;
    this.pos += n;
    if (this.headFill < 5) return null;
    this.headFill = 0;
    const type = this.head[0]!;
    const streamed = this.streamable(type);
    const size = this.checkHeader(type, this.head.readInt32BE(1), streamed);
    if (streamed) {
      this.streamLeft = size - 5;
      return { kind: "run", bytes: Buffer.from(this.head), messages: 1 };
    }
    this.partial = Buffer.allocUnsafe(size);
    this.head.copy(this.partial);
    this.partialFill = 5;
    return this.fillPartial();
  }

  private fillPartial(): Piece | null {
    const partial = this.partial!;
    const n = this.chunk.copy(partial, this.partialFill, this.pos, this.pos + (partial.length - this.partialFill));
    this.partialFill += n;
    this.pos += n;
    if (this.partialFill < partial.length) return null;
    this.partial = null;
    return { kind: "message", type: partial[0]!, frame: partial };
  }
}

export const FRONTEND_TYPES: ReadonlySet<number> = typeSet("QPBEDCSHXdcfF");
export const BACKEND_TYPES: ReadonlySet<number> = typeSet("RKSZTDCIENA123ntsGHWdcvV");

function typeSet(letters: string): ReadonlySet<number> {
  return new Set([...letters].map((c) => c.charCodeAt(0)));
}

import type { MaskStrategy } from "../bundle/format.js";
import type { EditList } from "./edit-list.js";
import { type Hasher, REDACTED_BYTES } from "./strategies.js";

/**
 * The masked spans of one value, turned into edits of the message that holds it: no masked
 * copy of the value is built, the replacement bytes go straight into the output (or over the
 * value itself, when every span keeps its length). Reused from value to value.
 */
export class SpanEdits {
  count = 0;
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly strategies: MaskStrategy[] = [];
  /** per span once measured: where its replaced part ends (partial keeps a tail), and its replacement */
  private readonly replacedEnds: number[] = [];
  private readonly stars: number[] = [];
  private readonly hashes: string[] = [];

  constructor(private readonly hasher: Hasher) {}

  clear(): void {
    this.count = 0;
  }

  /** Adds the span `[start, end)`: spans must come in order and not overlap. `strategy` must not be `null`. */
  add(start: number, end: number, strategy: MaskStrategy): void {
    const i = this.count++;
    this.starts[i] = start;
    this.ends[i] = end;
    this.strategies[i] = strategy;
  }

  /**
   * Masks the spans of the value `buf[start, end)`. With `inPlace` and every replacement as long
   * as its span, writes over `buf` and adds no edit; else adds edits to `edits`, preceded by the
   * value's new int32 length at `lengthAt` when that changes and `lengthAt >= 0`.
   */
  apply(buf: Buffer, start: number, end: number, edits: EditList, lengthAt: number, inPlace: boolean): void {
    let delta = 0;
    let keepLengths = true;
    for (let i = 0; i < this.count; i++) {
      const change = this.measure(i, buf) - (this.ends[i]! - this.starts[i]!);
      if (change !== 0) keepLengths = false;
      delta += change;
    }
    if (inPlace && keepLengths) {
      for (let i = 0; i < this.count; i++) this.writeOver(i, buf);
      return;
    }
    if (delta !== 0 && lengthAt >= 0) edits.int32(lengthAt, start, end - start + delta);
    for (let i = 0; i < this.count; i++) {
      const s = this.starts[i]!;
      switch (this.strategies[i]!.kind) {
        case "redact": edits.replace(s, this.ends[i]!, REDACTED_BYTES); break;
        case "hash": edits.replace(s, this.ends[i]!, this.hashes[i]!); break;
        default: edits.stars(s, this.replacedEnds[i]!, this.stars[i]!);
      }
    }
  }

  /** The byte length of span `i` once masked; records what `apply` writes. */
  private measure(i: number, buf: Buffer): number {
    const s = this.starts[i]!, e = this.ends[i]!;
    const strategy = this.strategies[i]!;
    switch (strategy.kind) {
      case "redact": return REDACTED_BYTES.length;
      case "hash": {
        const hash = this.hasher.hash(buf.subarray(s, e));
        this.hashes[i] = hash;
        return hash.length; // ASCII
      }
      default: {
        // partial: `*` per character but the last `keep`, and never more than half of them shown.
        // Characters are the bytes that do not continue a UTF-8 sequence.
        let chars = 0;
        for (let k = s; k < e; k++) if ((buf[k]! & 0xc0) !== 0x80) chars++;
        const shown = Math.min(strategy.keep ?? 0, Math.floor(chars / 2));
        let tail = e;
        for (let n = 0; n < shown; ) if ((buf[--tail]! & 0xc0) !== 0x80) n++;
        this.replacedEnds[i] = tail;
        this.stars[i] = chars - shown;
        return chars - shown + (e - tail);
      }
    }
  }

  private writeOver(i: number, buf: Buffer): void {
    const s = this.starts[i]!;
    switch (this.strategies[i]!.kind) {
      case "redact": for (let k = 0; k < REDACTED_BYTES.length; k++) buf[s + k] = REDACTED_BYTES[k]!; break;
      case "hash": buf.write(this.hashes[i]!, s, "latin1"); break;
      default: for (let k = s; k < this.replacedEnds[i]!; k++) buf[k] = 0x2a; // '*'
    }
  }
}

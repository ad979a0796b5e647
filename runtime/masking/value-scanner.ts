import type { MaskStrategy } from "../bundle/format.js";
import { profileBytes } from "./detectors/byte-profile.js";
import type { ByteProfile, Detector } from "./detectors/types.js";
import { Needle } from "./needle.js";
import { copyBytes } from "./edit-list.js";
import { Hasher, maskBytes, maskText, strength } from "./strategies.js";

export interface ArmedDetector {
  detector: Detector;
  strategy: MaskStrategy;
}

/**
 * Runs a set of detectors over raw UTF-8 values. Each detector's byte-level prefilter runs
 * first; only values some prefilter admits become JS strings and meet the regexes.
 *
 * Needle prefilters use native `Buffer#indexOf` (see needle.ts) with a per-needle cursor:
 * the next hit at or after the last searched position. Fields of one message are visited in increasing
 * order, so each needle costs one native pass per message, however many fields it has.
 */
export class ValueScanner {
  private readonly armed: readonly ArmedDetector[];
  private readonly hasher: Hasher;
  /** needle prefilters, each with the bit of its detector in the `admitted` mask */
  private readonly needles: Needle[] = [];
  private readonly needleBits: number[] = [];
  /** profile prefilters, each with its detector's bit */
  private readonly profileTests: ((p: ByteProfile) => boolean)[] = [];
  private readonly profileBits: number[] = [];
  /** bits of the detectors that can search raw bytes (`findBytes`) */
  private readonly byteFinderBits: number;
  /** values shorter than these fit no match of any detector / any profile detector */
  private readonly minBytes: number;
  private readonly profileMinBytes: number;

  private cursorBuf: Uint8Array | undefined;
  /** per needle: where the last search started, and its hit (-1: none from there on) */
  private readonly searchedFrom: number[] = [];
  private readonly hitAt: number[] = [];
  private readonly profile: ByteProfile = { digitRun: 0, longBase64Run: false, ibanHead: false };

  /** detected spans as flat triples: start, end, index into `armed` */
  private readonly spans: number[] = [];
  private current = 0;
  private readonly sink = (start: number, end: number): void => {
    this.spans.push(start, end, this.current);
  };

  constructor(armed: readonly ArmedDetector[], hasher: Hasher) {
    this.armed = armed;
    this.hasher = hasher;
    this.minBytes = Math.min(...armed.map((a) => a.detector.minBytes));
    this.profileMinBytes = Math.min(...armed.filter((a) => "profile" in a.detector.prefilter).map((a) => a.detector.minBytes));
    this.byteFinderBits = armed.reduce((bits, { detector }, j) => (detector.findBytes === undefined ? bits : bits | (1 << j)), 0);
    armed.forEach(({ detector }, j) => {
      const pf = detector.prefilter;
      if ("needles" in pf) {
        for (const n of pf.needles) {
          this.needles.push(new Needle(n));
          this.needleBits.push(1 << j);
        }
      } else {
        this.profileTests.push(pf.profile);
        this.profileBits.push(1 << j);
      }
    });
    this.reset();
  }

  /** Forget needle cursors: the next buffer is new, or its bytes changed. */
  reset(): void {
    this.cursorBuf = undefined;
    for (let k = 0; k < this.needles.length; k++) {
      this.searchedFrom[k] = 0;
      this.hitAt[k] = -2;
    }
  }

  /**
   * Masks detected spans in `buf[start, end)`. Returns `undefined` when nothing was found
   * (no string is created unless a prefilter admitted the value and some admitted detector
   * needs text), `null` when a detector whose strategy is `null` fired (a value cannot be
   * partly NULL), else the masked value (UTF-8 bytes or text).
   */
  scan(buf: Buffer, start: number, end: number): Buffer | string | null | undefined {
    if (buf !== this.cursorBuf) {
      this.reset();
      this.cursorBuf = buf;
    }
    if (end - start < this.minBytes) return undefined;
    let admitted = 0;
    for (let k = 0; k < this.needles.length; k++) {
      if ((admitted & this.needleBits[k]!) === 0 && this.needleWithin(k, buf, start, end)) admitted |= this.needleBits[k]!;
    }
    if (end - start >= this.profileMinBytes) {
      profileBytes(buf, start, end, this.profile);
      for (let t = 0; t < this.profileTests.length; t++) {
        if (this.profileTests[t]!(this.profile)) admitted |= this.profileBits[t]!;
      }
    }
    if (admitted === 0) return undefined;

    this.spans.length = 0;
    if ((admitted & ~this.byteFinderBits) === 0) {
      for (let j = 0; j < this.armed.length; j++) {
        if ((admitted & (1 << j)) === 0) continue;
        this.current = j;
        this.armed[j]!.detector.findBytes!(buf, start, end, this.sink);
      }
      if (this.spans.length === 0) return undefined;
      return this.rewriteBytes(buf, start, end);
    }
    const text = buf.toString("utf8", start, end);
    for (let j = 0; j < this.armed.length; j++) {
      if ((admitted & (1 << j)) === 0) continue;
      this.current = j;
      this.armed[j]!.detector.find(text, this.sink);
    }
    if (this.spans.length === 0) return undefined;
    return this.rewrite(text);
  }

  private needleWithin(k: number, buf: Buffer, start: number, end: number): boolean {
    let hit = this.hitAt[k]!;
    if (hit === -2 || start < this.searchedFrom[k]! || (hit >= 0 && hit < start)) {
      hit = this.needles[k]!.find(buf, start);
      this.hitAt[k] = hit;
      this.searchedFrom[k] = start;
    }
    return hit >= 0 && hit + this.needles[k]!.length <= end;
  }

  /** `rewrite` on raw bytes: the spans are offsets into `buf`, the value is `buf[start, end)`. */
  private rewriteBytes(buf: Buffer, start: number, end: number): Buffer | null {
    if (this.spans.length === 3) {
      // the common case: one span, nothing to sort, merge or collect
      const s0 = this.spans[0]!, e0 = this.spans[1]!;
      const masked = maskBytes(buf, s0, e0, this.armed[this.spans[2]!]!.strategy, this.hasher);
      if (masked === null) return null;
      const out = Buffer.allocUnsafe(end - start + Buffer.byteLength(masked) - (e0 - s0));
      let pos = copyBytes(buf, start, s0, out, 0);
      pos = typeof masked === "string" ? pos + out.write(masked, pos, "utf8") : copyBytes(masked, 0, masked.length, out, pos);
      copyBytes(buf, e0, end, out, pos);
      return out;
    }
    const pieces: (Buffer | string)[] = [];
    const cuts: number[] = [];
    let size = end - start;
    for (const span of this.mergedSpans()) {
      const masked = maskBytes(buf, span.start, span.end, span.strategy, this.hasher);
      if (masked === null) return null;
      pieces.push(masked);
      cuts.push(span.start, span.end);
      size += Buffer.byteLength(masked) - (span.end - span.start);
    }
    const out = Buffer.allocUnsafe(size);
    let pos = 0;
    let copied = start;
    for (let k = 0; k < pieces.length; k++) {
      pos = copyBytes(buf, copied, cuts[2 * k]!, out, pos);
      const piece = pieces[k]!;
      pos = typeof piece === "string" ? pos + out.write(piece, pos, "utf8") : copyBytes(piece, 0, piece.length, out, pos);
      copied = cuts[2 * k + 1]!;
    }
    copyBytes(buf, copied, end, out, pos);
    return out;
  }

  /** Replaces the spans, merging overlaps under the stronger strategy. */
  private rewrite(text: string): string | null {
    if (this.spans.length === 3) {
      // the common case: one span, nothing to sort or merge
      const [start, end, j] = this.spans as [number, number, number];
      const masked = maskText(text.slice(start, end), this.armed[j]!.strategy, this.hasher);
      return masked === null ? null : text.slice(0, start) + masked + text.slice(end);
    }
    let out = "";
    let copied = 0;
    for (const span of this.mergedSpans()) {
      const masked = maskText(text.slice(span.start, span.end), span.strategy, this.hasher);
      if (masked === null) return null;
      out += text.slice(copied, span.start) + masked;
      copied = span.end;
    }
    return out + text.slice(copied);
  }

  /** The detected spans in order, overlapping ones merged under the stronger strategy. */
  private mergedSpans(): { start: number; end: number; strategy: MaskStrategy }[] {
    const order = sortedTriples(this.spans);
    const merged: { start: number; end: number; strategy: MaskStrategy }[] = [];
    for (let i = 0; i < order.length; ) {
      const [start, first, j0] = order[i]!;
      let end = first;
      let strategy = this.armed[j0]!.strategy;
      for (i++; i < order.length && order[i]![0] < end; i++) {
        const [, e, j] = order[i]!;
        end = Math.max(end, e);
        strategy = stronger(strategy, this.armed[j]!.strategy);
      }
      merged.push({ start, end, strategy });
    }
    return merged;
  }
}

function sortedTriples(flat: readonly number[]): [number, number, number][] {
  const triples: [number, number, number][] = [];
  for (let i = 0; i < flat.length; i += 3) triples.push([flat[i]!, flat[i + 1]!, flat[i + 2]!]);
  return triples.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
}

function stronger(a: MaskStrategy, b: MaskStrategy): MaskStrategy {
  const sa = strength(a), sb = strength(b);
  if (sa !== sb) return sa > sb ? a : b;
  // two partials: show the fewer characters
  return (a.keep ?? 0) <= (b.keep ?? 0) ? a : b;
}

import type { MaskStrategy } from "../bundle/format.js";
import { profileBytes } from "./detectors/byte-profile.js";
import type { ByteProfile, Detector } from "./detectors/types.js";
import { Hasher, maskText, strength } from "./strategies.js";

export interface ArmedDetector {
  detector: Detector;
  strategy: MaskStrategy;
}

/**
 * Runs a set of detectors over raw UTF-8 values. Each detector's byte-level prefilter runs
 * first; only values some prefilter admits become JS strings and meet the regexes.
 *
 * Needle prefilters use `Buffer#indexOf` (native) with a per-needle cursor: the next hit at
 * or after the last searched position. Fields of one message are visited in increasing
 * order, so each needle costs one native pass per message, however many fields it has.
 */
export class ValueScanner {
  private readonly armed: readonly ArmedDetector[];
  private readonly needles: Buffer[] = [];
  /** detector index → [first, end) into `needles`; empty range: the detector uses the profile */
  private readonly needleFirst: number[] = [];
  private readonly needleEnd: number[] = [];
  private readonly usesProfile: boolean[] = [];
  private readonly hasher: Hasher;

  private cursorBuf: Uint8Array | undefined;
  /** per needle: where the last search started, and its hit (-1: none from there on) */
  private readonly searchedFrom: number[] = [];
  private readonly hitAt: number[] = [];
  private readonly profile: ByteProfile = { digitRun: 0, longBase64Run: false, ibanHead: false };

  /** detected spans as flat triples: start, end, index into `armed` */
  private spans: number[] = [];
  private current = 0;
  private readonly sink = (start: number, end: number): void => {
    this.spans.push(start, end, this.current);
  };

  constructor(armed: readonly ArmedDetector[], hasher: Hasher) {
    this.armed = armed;
    this.hasher = hasher;
    for (const { detector } of armed) {
      this.needleFirst.push(this.needles.length);
      const pf = detector.prefilter;
      if ("needles" in pf) for (const n of pf.needles) this.needles.push(Buffer.from(n, "utf8"));
      this.needleEnd.push(this.needles.length);
      this.usesProfile.push("profile" in pf);
    }
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
   * (no string is created unless a prefilter admitted the value), `null` when a detector
   * whose strategy is `null` fired (a value cannot be partly NULL), else the masked text.
   */
  scan(buf: Buffer, start: number, end: number): string | null | undefined {
    if (buf !== this.cursorBuf) {
      this.reset();
      this.cursorBuf = buf;
    }
    let admitted = 0;
    let profiled = false;
    for (let j = 0; j < this.armed.length; j++) {
      if (this.usesProfile[j]) {
        if (!profiled) {
          profileBytes(buf, start, end, this.profile);
          profiled = true;
        }
        const pf = this.armed[j]!.detector.prefilter;
        if ("profile" in pf && pf.profile(this.profile)) admitted |= 1 << j;
      } else {
        for (let k = this.needleFirst[j]!; k < this.needleEnd[j]!; k++) {
          if (this.needleWithin(k, buf, start, end)) {
            admitted |= 1 << j;
            break;
          }
        }
      }
    }
    if (admitted === 0) return undefined;

    const text = buf.toString("utf8", start, end);
    this.spans.length = 0;
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
      hit = buf.indexOf(this.needles[k]!, start);
      this.hitAt[k] = hit;
      this.searchedFrom[k] = start;
    }
    return hit >= 0 && hit + this.needles[k]!.length <= end;
  }

  /** Replaces the spans, merging overlaps under the stronger strategy. */
  private rewrite(text: string): string | null {
    const order = sortedTriples(this.spans);
    let out = "";
    let copied = 0;
    for (let i = 0; i < order.length; ) {
      const [s0, e0, j0] = order[i]!;
      let spanEnd = e0;
      let strategy = this.armed[j0]!.strategy;
      for (i++; i < order.length && order[i]![0] < spanEnd; i++) {
        const [, e, j] = order[i]!;
        spanEnd = Math.max(spanEnd, e);
        strategy = stronger(strategy, this.armed[j]!.strategy);
      }
      const masked = maskText(text.slice(s0, spanEnd), strategy, this.hasher);
      if (masked === null) return null;
      out += text.slice(copied, s0) + masked;
      copied = spanEnd;
    }
    return out + text.slice(copied);
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

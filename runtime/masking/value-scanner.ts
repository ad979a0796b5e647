import type { MaskStrategy } from "../bundle/format.js";
import { ByteProfiler } from "./detectors/byte-profile.js";
import type { Detector } from "./detectors/types.js";
import { Needle } from "./needle.js";
import type { SpanEdits } from "./span-edits.js";
import { strength } from "./strategies.js";

export interface ArmedDetector {
  detector: Detector;
  strategy: MaskStrategy;
}

/** `scan` found nothing, a span whose strategy is `null` (the whole value goes), or spans to mask. */
export const FOUND_NOTHING = 0;
export const FOUND_NULL = 1;
export const FOUND_SPANS = 2;

/**
 * Runs a set of detectors over raw UTF-8 values. Each detector's byte-level prefilter runs
 * first; only values some prefilter admits meet the detectors.
 *
 * Detectors work on bytes: with `findBytes`, or with `find` over the value decoded as latin1
 * (one character per byte, so its indexes are byte offsets). What a detector matches or tests
 * is ASCII (a span may hold anything between two matched parts, as a private key's body), and
 * no byte of a multi-byte UTF-8 character is ASCII, so both find what `find` finds on the
 * UTF-8 decoded text.
 *
 * Needle prefilters use native `Buffer#indexOf` (see needle.ts) with a per-needle cursor:
 * the next hit at or after the last searched position. Fields of one message are visited in increasing
 * order, so each needle costs one native pass per message, however many fields it has, and a
 * value before the nearest hit of any needle skips the needle tests altogether. A value that
 * does not start after the last one scanned starts the cursors afresh: a side buffer rewritten
 * for each value (decoded text or bytes, scanned from offset 0) needs no `reset` from its caller.
 */
export class ValueScanner {
  private readonly armed: readonly ArmedDetector[];
  /** needle prefilters, each with the bit of its detector in the `admitted` mask */
  private readonly needles: Needle[] = [];
  private readonly needleBits: number[] = [];
  /**
   * profile prefilters: detectors admitted by a digit run of at least `digitRuns[t]` with the
   * shape `digitShapes[t]` (if any), by an IBAN head, by a base64 run
   */
  private readonly digitRuns: number[] = [];
  private readonly digitShapes: ("phoneShape" | "ssnShape" | undefined)[] = [];
  private readonly digitRunBits: number[] = [];
  private readonly minDigitRun: number;
  private readonly ibanHeadBits: number;
  private readonly base64RunBits: number;
  /** values shorter than these fit no match of any detector / any profile detector */
  private readonly minBytes: number;
  private readonly profileMinBytes: number;

  private cursorBuf: Uint8Array | undefined;
  /** the start of the last value scanned in `cursorBuf`: a value at or before it resets the cursors */
  private lastStart = 0;
  /** per needle: its first hit at or after the start of the value that searched last (-1: none, -2: not searched) */
  private readonly hitAt: number[] = [];
  /** no needle hit (searched or not) starts before this offset */
  private nextHit = 0;
  private readonly profile = new ByteProfiler();

  /** detected spans as flat triples: start, end, index into `armed` */
  private readonly spans: number[] = [];
  private spanCount = 0;
  /** for `merge`: the offsets in `spans` of the triples, by start, the longest first */
  private readonly order: number[] = [];
  private readonly byStart = (a: number, b: number): number =>
    this.spans[a]! - this.spans[b]! || this.spans[b + 1]! - this.spans[a + 1]!;
  private current = 0;
  /** added to every span a detector reports: 0 for `findBytes`, the value's start for `find` on its text */
  private base = 0;
  private readonly sink = (start: number, end: number): void => {
    const k = 3 * this.spanCount++;
    this.spans[k] = this.base + start;
    this.spans[k + 1] = this.base + end;
    this.spans[k + 2] = this.current;
  };

  constructor(armed: readonly ArmedDetector[]) {
    this.armed = armed;
    this.minBytes = Math.min(...armed.map((a) => a.detector.minBytes));
    this.profileMinBytes = Math.min(...armed.filter((a) => !("needles" in a.detector.prefilter)).map((a) => a.detector.minBytes));
    let ibanHeadBits = 0;
    let base64RunBits = 0;
    armed.forEach(({ detector }, j) => {
      const pf = detector.prefilter;
      if ("needles" in pf) {
        for (const n of pf.needles) {
          this.needles.push(new Needle(n));
          this.needleBits.push(1 << j);
        }
      } else if ("digitRun" in pf) {
        this.digitRuns.push(pf.digitRun);
        this.digitShapes.push(pf.shape);
        this.digitRunBits.push(1 << j);
      } else if ("ibanHead" in pf) {
        ibanHeadBits |= 1 << j;
      } else {
        base64RunBits |= 1 << j;
      }
    });
    this.minDigitRun = Math.min(...this.digitRuns);
    this.ibanHeadBits = ibanHeadBits;
    this.base64RunBits = base64RunBits;
    this.reset();
  }

  /** Forget needle cursors: the next buffer is new, or its bytes changed after the values scanned so far. */
  reset(): void {
    this.cursorBuf = undefined;
    this.lastStart = 0;
    this.nextHit = 0;
    for (let k = 0; k < this.needles.length; k++) this.hitAt[k] = -2;
  }

  /**
   * Detects in `buf[start, end)`. On `FOUND_SPANS` the detected spans (byte offsets into
   * `buf`), overlapping ones merged under the stronger strategy, have been added to `out`.
   */
  scan(buf: Buffer, start: number, end: number, out: SpanEdits): number {
    if (buf !== this.cursorBuf || start <= this.lastStart) {
      this.reset();
      this.cursorBuf = buf;
    }
    this.lastStart = start;
    if (end - start < this.minBytes) return FOUND_NOTHING;
    let admitted = 0;
    if (this.nextHit < end) admitted = this.needlesWithin(buf, start, end);
    if (end - start >= this.profileMinBytes) {
      const p = this.profile;
      p.profile(buf, start, end);
      if (p.digitRun >= this.minDigitRun) {
        for (let t = 0; t < this.digitRuns.length; t++) {
          const shape = this.digitShapes[t];
          if (p.digitRun >= this.digitRuns[t]! && (shape === undefined || p[shape])) admitted |= this.digitRunBits[t]!;
        }
      }
      if (p.ibanHead) admitted |= this.ibanHeadBits;
      if (p.longBase64Run) admitted |= this.base64RunBits;
    }
    if (admitted === 0) return FOUND_NOTHING;

    this.spanCount = 0;
    let text: string | undefined;
    for (let j = 0; j < this.armed.length; j++) {
      if ((admitted & (1 << j)) === 0) continue;
      this.current = j;
      const detector = this.armed[j]!.detector;
      if (detector.findBytes !== undefined) {
        this.base = 0;
        detector.findBytes(buf, start, end, this.sink);
      } else {
        this.base = start;
        text ??= buf.toString("latin1", start, end);
        detector.find(text, this.sink);
      }
    }
    if (this.spanCount === 0) return FOUND_NOTHING;
    return this.merge(out);
  }

  /** The admitted bits of the needles found in `buf[start, end)`; updates `nextHit`. */
  private needlesWithin(buf: Buffer, start: number, end: number): number {
    let admitted = 0;
    let next = Infinity;
    for (let k = 0; k < this.needles.length; k++) {
      let hit = this.hitAt[k]!;
      if (hit === -2 || (hit >= 0 && hit < start)) {
        hit = this.needles[k]!.find(buf, start);
        this.hitAt[k] = hit;
      }
      if (hit < 0) continue;
      if (hit + this.needles[k]!.length <= end) admitted |= this.needleBits[k]!;
      if (hit < next) next = hit;
    }
    this.nextHit = next;
    return admitted;
  }

  /** Adds the spans to `out` in order, overlapping ones merged under the stronger strategy. */
  private merge(out: SpanEdits): number {
    const spans = this.spans;
    const n = this.spanCount;
    for (let i = 0; i < n; i++) if (this.armed[spans[3 * i + 2]!]!.strategy.kind === "null") return FOUND_NULL;
    out.clear();
    if (n === 1) {
      out.add(spans[0]!, spans[1]!, this.armed[spans[2]!]!.strategy);
      return FOUND_SPANS;
    }
    const order = this.order;
    order.length = n;
    for (let i = 0; i < n; i++) order[i] = 3 * i;
    order.sort(this.byStart);
    for (let i = 0; i < n; ) {
      const start = spans[order[i]!]!;
      let end = spans[order[i]! + 1]!;
      let strategy = this.armed[spans[order[i]! + 2]!]!.strategy;
      for (i++; i < n && spans[order[i]!]! < end; i++) {
        end = Math.max(end, spans[order[i]! + 1]!);
        strategy = stronger(strategy, this.armed[spans[order[i]! + 2]!]!.strategy);
      }
      out.add(start, end, strategy);
    }
    return FOUND_SPANS;
  }
}

function stronger(a: MaskStrategy, b: MaskStrategy): MaskStrategy {
  const sa = strength(a), sb = strength(b);
  if (sa !== sb) return sa > sb ? a : b;
  // two partials: show the fewer characters
  return (a.keep ?? 0) <= (b.keep ?? 0) ? a : b;
}

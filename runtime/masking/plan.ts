import type { MaskStrategy } from "../bundle/format.js";
import type { SessionMasks } from "../engine/types.js";
import { DETECTOR_BY_NAME } from "./detectors/index.js";
import { EditList } from "./edit-list.js";
import { MaskingError } from "./errors.js";
import { isStringType, mayHoldDetectable } from "./pg-types.js";
import { SpanEdits } from "./span-edits.js";
import { checkStrategy, Hasher } from "./strategies.js";
import { type ArmedDetector, FOUND_NOTHING, FOUND_NULL, ValueScanner } from "./value-scanner.js";

/** A result column as RowDescription (or CopyOutResponse) describes it. */
export interface ColumnType {
  dataTypeID: number;
  format: "text" | "binary";
}

export interface MaskPlanOptions {
  /** the gateway's HMAC key for the `hash` strategy, at least 32 bytes */
  hashKey: Uint8Array;
  /**
   * One entry per column. Without it every column is taken as text-format free text:
   * masks still apply, but typed clients may fail to parse a replacement.
   */
  columnTypes?: readonly ColumnType[];
}

const NULL_STRATEGY: MaskStrategy = { kind: "null" };

/** `maskValue`: the value stays as it is (or was masked where it stands), becomes SQL NULL, or has edits. */
export const UNCHANGED = 0;
export const NULLED = 1;
export const EDITED = 2;

/** What to do with each column of one result set. Build with `buildRowMaskPlan`. */
export class RowMaskPlan {
  private readonly spans: SpanEdits;
  /** for `maskField`: edits of one value */
  private readonly valueEdits = new EditList();

  constructor(
    readonly columnCount: number,
    /** per column: the strategy as applied (already NULL where the type demands it) */
    private readonly columnMasks: readonly (MaskStrategy | undefined)[],
    /** per column: 1 when detectors run on it */
    private readonly detect: Uint8Array,
    /** per column: 1 when a detection may be replaced in the text (else the value becomes NULL) */
    private readonly replaceable: Uint8Array,
    private readonly scanner: ValueScanner | undefined,
    hasher: Hasher,
  ) {
    this.spans = new SpanEdits(hasher);
  }

  /** Call before masking fields of a new message (needle cursors are per buffer). */
  beginMessage(): void {
    this.scanner?.reset();
  }

  /**
   * Masks the non-NULL value `buf[start, end)` of column `col`: adds its edits to `edits`
   * (preceded by its new int32 length at `lengthAt` when that changes and `lengthAt >= 0`)
   * and returns `EDITED`, or returns `NULLED` (nothing added), or `UNCHANGED`. With `inPlace`,
   * a masked value as long as the original is written over `buf` instead (`UNCHANGED`).
   */
  maskValue(col: number, buf: Buffer, start: number, end: number, edits: EditList, lengthAt: number, inPlace: boolean): number {
    const strategy = this.columnMasks[col];
    if (strategy !== undefined) {
      if (strategy.kind === "null") return NULLED;
      this.spans.clear();
      this.spans.add(start, end, strategy);
    } else {
      if (this.detect[col] === 0) return UNCHANGED;
      const found = this.scanner!.scan(buf, start, end, this.spans);
      if (found === FOUND_NOTHING) return UNCHANGED;
      if (found === FOUND_NULL || this.replaceable[col] === 0) return NULLED;
    }
    const before = edits.count;
    this.spans.apply(buf, start, end, edits, lengthAt, inPlace);
    return edits.count === before ? UNCHANGED : EDITED;
  }

  /** The masked copy of the non-NULL value `buf[start, end)` of column `col`: `undefined` when unchanged, `null` for SQL NULL. */
  maskField(col: number, buf: Buffer, start: number, end: number): Buffer | null | undefined {
    const edits = this.valueEdits;
    edits.clear();
    const result = this.maskValue(col, buf, start, end, edits, -1, false);
    if (result === UNCHANGED) return undefined;
    if (result === NULLED) return null;
    const out = Buffer.allocUnsafe(end - start + edits.delta);
    edits.applyTo(buf, start, end, out, 0, 0);
    return out;
  }
}

/**
 * The mask plan for one result set, or `undefined` when nothing applies (the proxy then
 * forwards rows untouched). `columns[i]` is the column mask resolved for result column `i`
 * by provenance; `detectors` apply to every text-format column.
 *
 * Binary-format columns: a column mask turns the value into NULL (the only replacement
 * valid for every type's binary form) and detectors skip them — the proxy should request
 * text format where detection matters.
 */
export function buildRowMaskPlan(
  columns: readonly (MaskStrategy | undefined)[],
  detectors: SessionMasks["detectors"],
  options: MaskPlanOptions,
): RowMaskPlan | undefined {
  const hasher = new Hasher(options.hashKey);
  const types = options.columnTypes;
  if (types !== undefined && types.length !== columns.length) {
    throw new MaskingError(`mask plan: ${columns.length} column masks for ${types.length} described columns`);
  }
  const armed: ArmedDetector[] = [];
  for (const [name, strategy] of detectors) {
    checkStrategy(strategy);
    const detector = DETECTOR_BY_NAME[name];
    if (detector === undefined) throw new MaskingError(`unknown detector "${name}"`);
    armed.push({ detector, strategy });
  }

  const n = columns.length;
  const columnMasks: (MaskStrategy | undefined)[] = new Array(n);
  const detect = new Uint8Array(n);
  const replaceable = new Uint8Array(n);
  let anything = false;
  for (let i = 0; i < n; i++) {
    const type = types?.[i];
    const binary = type?.format === "binary";
    const stringTyped = type === undefined || isStringType(type.dataTypeID);
    const mask = columns[i];
    if (mask !== undefined) {
      checkStrategy(mask);
      columnMasks[i] = binary || !stringTyped ? NULL_STRATEGY : mask;
      anything = true;
    } else if (armed.length > 0 && !binary && (type === undefined || mayHoldDetectable(type.dataTypeID))) {
      detect[i] = 1;
      replaceable[i] = stringTyped ? 1 : 0;
      anything = true;
    }
  }
  if (!anything) return undefined;
  const scanner = armed.length > 0 ? new ValueScanner(armed) : undefined;
  return new RowMaskPlan(n, columnMasks, detect, replaceable, scanner, hasher);
}

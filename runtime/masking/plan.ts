import type { MaskStrategy } from "../bundle/format.js";
import type { SessionMasks } from "../engine/types.js";
import { DETECTOR_BY_NAME } from "./detectors/index.js";
import { MaskingError } from "./errors.js";
import { isStringType, mayHoldDetectable } from "./pg-types.js";
import { copyBytes } from "./edit-list.js";
import { checkStrategy, Hasher, maskBytes, partialMaskInPlace } from "./strategies.js";
import { type ArmedDetector, ValueScanner } from "./value-scanner.js";

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

/** A field's fate: `undefined` unchanged, `null` SQL NULL, else the replacement value. */
export type FieldResult = Buffer | string | null | undefined;

/** `maskFieldInPlace`: the masked value had the original's byte length and was written over it. */
export const MASKED_IN_PLACE = 1;

const NULL_STRATEGY: MaskStrategy = { kind: "null" };

/** What to do with each column of one result set. Build with `buildRowMaskPlan`. */
export class RowMaskPlan {
  constructor(
    readonly columnCount: number,
    /** per column: the strategy as applied (already NULL where the type demands it) */
    private readonly columnMasks: readonly (MaskStrategy | undefined)[],
    /** per column: 1 when detectors run on it */
    private readonly detect: Uint8Array,
    /** per column: 1 when a detection may be replaced in place (else the value becomes NULL) */
    private readonly inPlace: Uint8Array,
    private readonly scanner: ValueScanner | undefined,
    private readonly hasher: Hasher,
  ) {}

  /** Call before masking fields of a new message (needle cursors are per buffer). */
  beginMessage(): void {
    this.scanner?.reset();
  }

  /** Masks the non-NULL value `buf[start, end)` of column `col`. */
  maskField(col: number, buf: Buffer, start: number, end: number): FieldResult {
    const strategy = this.columnMasks[col];
    if (strategy !== undefined) return maskBytes(buf, start, end, strategy, this.hasher);
    if (this.detect[col] === 0 || this.scanner === undefined) return undefined;
    const masked = this.scanner.scan(buf, start, end);
    if (masked === undefined || masked === null) return masked;
    return this.inPlace[col] === 1 ? masked : null;
  }

  /** `maskField`, but a replacement as long as the value is written over `buf[start, end)`. */
  maskFieldInPlace(col: number, buf: Buffer, start: number, end: number): FieldResult | typeof MASKED_IN_PLACE {
    const strategy = this.columnMasks[col];
    if (strategy?.kind === "partial" && partialMaskInPlace(buf, start, end, strategy.keep ?? 0)) return MASKED_IN_PLACE;
    const result = this.maskField(col, buf, start, end);
    if (result === null || result === undefined) return result;
    if (typeof result !== "string") {
      if (result.length !== end - start) return result;
      copyBytes(result, 0, result.length, buf, start);
      return MASKED_IN_PLACE;
    }
    if (Buffer.byteLength(result, "utf8") !== end - start) return result;
    buf.write(result, start, "utf8");
    return MASKED_IN_PLACE;
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
  const inPlace = new Uint8Array(n);
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
      inPlace[i] = stringTyped ? 1 : 0;
      anything = true;
    }
  }
  if (!anything) return undefined;
  const scanner = armed.length > 0 ? new ValueScanner(armed, hasher) : undefined;
  return new RowMaskPlan(n, columnMasks, detect, inPlace, scanner, hasher);
}

import type { MaskStrategy } from "../bundle/format.js";
import type { SessionMasks } from "../engine/types.js";
import { DecimalText, mayMatchDecimalText } from "./decimal-text.js";
import { DETECTOR_BY_NAME } from "./detectors/index.js";
import { EditList } from "./edit-list.js";
import { MaskingError } from "./errors.js";
import { binaryForm, isByteaText, isStringType, mayHoldDetectable } from "./pg-types.js";
import { HexRuns } from "./hex-runs.js";
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

/**
 * How detectors read a column: not at all; its bytes as they stand, detections replaced there
 * (string types) or the value NULL on a detection; or (the codes above those) a form to decode
 * first, NULL on a detection.
 */
const NO_DETECTION = 0;
const REPLACE_SPANS = 1;
const NULL_ON_DETECTION = 2;
const JSONB_BINARY = 3;
const INT8_BINARY = 4;
const NUMERIC_BINARY = 5;
const BYTEA_TEXT = 6;
const FLOAT8_BINARY = 7;
const JSONB_VERSION = 1;

/** What to do with each column of one result set. Build with `buildRowMaskPlan`. */
export class RowMaskPlan {
  private readonly spans: SpanEdits;
  /** for `maskField`: edits of one value */
  private readonly valueEdits = new EditList();

  constructor(
    readonly columnCount: number,
    /** per column: the strategy as applied (already NULL where the type demands it) */
    private readonly columnMasks: readonly (MaskStrategy | undefined)[],
    /** per column: how detectors read it (`NO_DETECTION`, `REPLACE_SPANS`…) */
    private readonly detect: Uint8Array,
    private readonly scanner: ValueScanner,
    hasher: Hasher,
    /**
     * for binary int8, numeric and float8 columns: their decimal text, and a scanner of its own (the
     * message's needle cursors stay put) with the detectors that may match such text
     */
    private readonly numbers: { text: DecimalText; scanner: ValueScanner } | undefined,
    /** for text-format bytea: the bytes its hex runs stand for, and a scanner of its own (likewise) */
    private readonly hex: { runs: HexRuns; scanner: ValueScanner } | undefined,
  ) {
    this.spans = new SpanEdits(hasher);
  }

  /** Call before masking fields of a new message (needle cursors are per buffer). */
  beginMessage(): void {
    this.scanner.reset();
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
      const how = this.detect[col]!;
      if (how === NO_DETECTION) return UNCHANGED;
      if (how > NULL_ON_DETECTION) return this.maskDecoded(how, buf, start, end);
      const found = this.scanner.scan(buf, start, end, this.spans);
      if (found === FOUND_NOTHING) return UNCHANGED;
      if (found === FOUND_NULL || how === NULL_ON_DETECTION) return NULLED;
    }
    const before = edits.count;
    this.spans.apply(buf, start, end, edits, lengthAt, inPlace);
    return edits.count === before ? UNCHANGED : EDITED;
  }

  /** A binary jsonb, int8, numeric or float8 value, or a text-format bytea: `NULLED` when malformed or a detector finds something in its text, else `UNCHANGED`. */
  private maskDecoded(how: number, buf: Buffer, start: number, end: number): number {
    switch (how) {
      case JSONB_BINARY:
        return end === start || buf[start] !== JSONB_VERSION || this.detects(this.scanner, buf, start + 1, end) ? NULLED : UNCHANGED;
      case BYTEA_TEXT: {
        // its printable bytes as they stand (bytea_output = escape prints them so), then its hex runs decoded
        if (this.detects(this.scanner, buf, start, end)) return NULLED;
        const { runs, scanner } = this.hex!;
        const length = runs.decode(buf, start, end);
        return length < 0 || this.detects(scanner, runs.buffer, 0, length) ? NULLED : UNCHANGED;
      }
      default: {
        const { text, scanner } = this.numbers!;
        const length = how === INT8_BINARY ? text.int8(buf, start, end) : how === FLOAT8_BINARY ? text.float8(buf, start, end) : text.numeric(buf, start, end);
        return length < 0 || this.detects(scanner, text.buffer, 0, length) ? NULLED : UNCHANGED;
      }
    }
  }

  private detects(scanner: ValueScanner, buf: Buffer, start: number, end: number): boolean {
    return scanner.scan(buf, start, end, this.spans) !== FOUND_NOTHING;
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
 * by provenance; `detectors` apply to every other column whose type may hold a detection.
 *
 * Binary-format columns (fail closed: what the gateway cannot read does not pass): a column
 * mask turns the value into NULL (the only replacement valid for every type's binary form).
 * Detectors read the binary forms that carry text (`binaryForm`): string types are scanned and
 * masked as in text format; json, xml, jsonb (after its version byte) and bytea are scanned, and
 * int8, numeric and float8 decoded to their decimal text and scanned, a detection or a malformed value
 * giving NULL. Any other binary value (arrays, records, ranges, user-defined types…) becomes
 * NULL unconditionally: clients that need those types with detectors must ask for text format.
 * In text format, bytea (and bytea[]) is hex: detectors read the bytes its hex runs stand for,
 * and its printable bytes as they stand; a detection gives NULL.
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
    } else if (armed.length > 0 && (type === undefined || mayHoldDetectable(type.dataTypeID))) {
      anything = true;
      if (!binary) {
        detect[i] = type !== undefined && isByteaText(type.dataTypeID) ? BYTEA_TEXT : stringTyped ? REPLACE_SPANS : NULL_ON_DETECTION;
        continue;
      }
      switch (binaryForm(type!.dataTypeID)) {
        case "string": detect[i] = REPLACE_SPANS; break;
        case "raw": detect[i] = NULL_ON_DETECTION; break;
        case "jsonb": detect[i] = JSONB_BINARY; break;
        case "int8": detect[i] = INT8_BINARY; break;
        case "numeric": detect[i] = NUMERIC_BINARY; break;
        case "float8": detect[i] = FLOAT8_BINARY; break;
        // a form the detectors cannot read: withheld as a `null` column mask would be
        case "unreadable": columnMasks[i] = NULL_STRATEGY; break;
      }
    }
  }
  if (!anything) return undefined;
  // a scanner without detectors finds nothing: int8, numeric and float8 are still decoded, to withhold a malformed value
  const numbers = detect.includes(INT8_BINARY) || detect.includes(NUMERIC_BINARY) || detect.includes(FLOAT8_BINARY)
    ? { text: new DecimalText(), scanner: new ValueScanner(armed.filter((a) => mayMatchDecimalText(a.detector))) }
    : undefined;
  const hex = detect.includes(BYTEA_TEXT) ? { runs: new HexRuns(), scanner: new ValueScanner(armed) } : undefined;
  return new RowMaskPlan(n, columnMasks, detect, new ValueScanner(armed), hasher, numbers, hex);
}

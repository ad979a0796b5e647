import type { DetectorName } from "../../schema/attributes.js";

/** Cheap facts about a raw UTF-8 value, gathered in one pass (see byte-profile.ts). */
export interface ByteProfile {
  /** most ASCII digits in one run (of two bytes or more) of digits and the separators ` -.()+` */
  digitRun: number;
  /** the value holds `+` before a digit 1–9, or 3 digits, one of ` .-`, 4 digits: every phone number does */
  phoneShape: boolean;
  /** the value holds 3 digits, `-` or a space, 2 digits, the same separator, 4 digits */
  ssnShape: boolean;
  /** there is a run of at least 40 base64 characters `[A-Za-z0-9+/]`, and an ASCII digit anywhere */
  longBase64Run: boolean;
  /** the value holds two uppercase letters followed by two digits (an IBAN's head) */
  ibanHead: boolean;
}

/**
 * A byte-level test that must pass before a detector runs on a value: the value contains one
 * of `needles`, or its byte profile has a digit run of at least `digitRun` digits (and the
 * `shape`, if given), an IBAN head, or a long base64 run.
 */
export type Prefilter =
  | { readonly needles: readonly string[] }
  | { readonly digitRun: number; readonly shape?: "phoneShape" | "ssnShape" }
  | { readonly ibanHead: true }
  | { readonly longBase64Run: true };

/** Receives one detected span, `[start, end)`: indexes of the scanned text, or byte offsets. */
export type SpanSink = (start: number, end: number) => void;

export interface Detector {
  readonly name: DetectorName;
  readonly prefilter: Prefilter;
  /** The shortest value (in bytes) a match can fit in: shorter values skip the detector. */
  readonly minBytes: number;
  /**
   * Every validated match in `text`, in order. Every character `find` matches or tests is ASCII
   * or tested against ASCII classes (a span may hold anything between two matched parts), so
   * the scanner passes the value decoded as latin1 and takes indexes as byte offsets. Must run
   * in time linear in `text.length`.
   */
  find(text: string, sink: SpanSink): void;
  /**
   * The same matches as `find`, found on raw UTF-8 `buf[start, end)` with spans as byte
   * offsets into `buf`; lets the scanner skip decoding the value.
   */
  readonly findBytes?: (buf: Uint8Array, start: number, end: number, sink: SpanSink) => void;
  /** The regexes `find` uses, so tests can prove them linear-time. */
  readonly regexes: readonly RegExp[];
}

import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import type { MaskStrategy } from "../bundle/format.js";
import { copyBytes } from "./edit-list.js";
import { MaskingError } from "./errors.js";

export const REDACTED = "[REDACTED]";
export const REDACTED_BYTES: Buffer = Buffer.from(REDACTED, "ascii");

const HASH_PREFIX = "hash:";
const HASH_HEX_CHARS = 16;
const MIN_HASH_KEY_BYTES = 32;

/** How much a strategy withholds: `null` > `redact` > `hash` > `partial` (DESIGN.md §2). */
export function strength(s: MaskStrategy): number {
  switch (s.kind) {
    case "partial": return 0;
    case "hash": return 1;
    case "redact": return 2;
    case "null": return 3;
  }
}

/** Rejects a strategy the masker cannot apply (fail closed at plan time, not per row). */
export function checkStrategy(s: MaskStrategy): void {
  if (s.kind === "partial" && !(Number.isSafeInteger(s.keep) && (s.keep as number) >= 0)) {
    throw new MaskingError(`partial mask needs a non-negative integer "keep", got ${String(s.keep)}`);
  }
}

/**
 * `*` for every character but the last `keep` — and never more than half of them, so a
 * short value (or a `keep` larger than the value) is not given away. Counts code points,
 * so a multi-byte character is one `*`.
 */
export function partialMask(text: string, keep: number): string {
  const chars = Array.from(text);
  const shown = Math.min(keep, Math.floor(chars.length / 2));
  return "*".repeat(chars.length - shown) + chars.slice(chars.length - shown).join("");
}

/** `partialMask` on raw UTF-8, without decoding: characters are the bytes that do not continue one. */
export function partialMaskBytes(buf: Buffer, start: number, end: number, keep: number): Buffer {
  let chars = 0;
  for (let i = start; i < end; i++) if ((buf[i]! & 0xc0) !== 0x80) chars++;
  const shown = Math.min(keep, Math.floor(chars / 2));
  let tail = end;
  for (let n = 0; n < shown; ) if ((buf[--tail]! & 0xc0) !== 0x80) n++;
  const hidden = chars - shown;
  const out = Buffer.allocUnsafe(hidden + end - tail);
  for (let i = 0; i < hidden; i++) out[i] = 0x2a; // '*'; a loop beats fill() on short values
  copyBytes(buf, tail, end, out, hidden);
  return out;
}

/**
 * `partialMaskBytes` written over `buf[start, end)` when every hidden character is one byte
 * (the masked value then has the same length); false, leaving `buf` as it was, otherwise.
 */
export function partialMaskInPlace(buf: Buffer, start: number, end: number, keep: number): boolean {
  let chars = 0;
  for (let i = start; i < end; i++) if ((buf[i]! & 0xc0) !== 0x80) chars++;
  const shown = Math.min(keep, Math.floor(chars / 2));
  let tail = end;
  for (let n = 0; n < shown; ) if ((buf[--tail]! & 0xc0) !== 0x80) n++;
  if (tail - start !== chars - shown) return false;
  for (let i = start; i < tail; i++) buf[i] = 0x2a; // '*'
  return true;
}

/**
 * `hash:` + the first 16 hex digits of HMAC-SHA256 under the gateway's key: equal values
 * give equal output (joins and group-bys still work), and without the key no dictionary of
 * precomputed hashes can reverse it.
 */
export class Hasher {
  private readonly key: KeyObject;

  constructor(key: Uint8Array) {
    if (key.length < MIN_HASH_KEY_BYTES) {
      throw new MaskingError(`the masking hash key must be at least ${MIN_HASH_KEY_BYTES} bytes, got ${key.length}`);
    }
    this.key = createSecretKey(key);
  }

  hash(value: Uint8Array | string): string {
    return HASH_PREFIX + createHmac("sha256", this.key).update(value).digest("hex").slice(0, HASH_HEX_CHARS);
  }
}

/** A masked text value, or `null` for SQL NULL. */
export function maskText(text: string, s: MaskStrategy, hasher: Hasher): string | null {
  switch (s.kind) {
    case "redact": return REDACTED;
    case "partial": return partialMask(text, s.keep ?? 0);
    case "hash": return hasher.hash(text);
    case "null": return null;
  }
}

/** The same as `maskText` on raw UTF-8 bytes; decodes only when the strategy needs characters. */
export function maskBytes(buf: Buffer, start: number, end: number, s: MaskStrategy, hasher: Hasher): Buffer | string | null {
  switch (s.kind) {
    case "redact": return REDACTED_BYTES;
    case "partial": return partialMaskBytes(buf, start, end, s.keep ?? 0);
    case "hash": return hasher.hash(buf.subarray(start, end));
    case "null": return null;
  }
}

// How much of what a client sends one audit record keeps. A statement's text is the client's to
// choose, up to the gateway's statement limit (runtime/postgres/statement-limit.ts), and its JSON
// form can be six times its size (a control character is written `\u0001`): a record keeps the
// text's first 64 KiB of UTF-8, and when that cuts it, the whole text's length and SHA-256 (the
// digest an approval request of the same text carries as its statementSha256). A statement the
// gateway refused to run keeps its first 4 KiB the same way: it changed nothing, and a client
// sending refused statements as fast as it can should cost the audit log little. Reasons and
// errors, which can quote the statement (`unterminated quoted string at or near "'…"`), keep
// their first 4 KiB. A text that fits is taken as it is after one length comparison; only a long
// one is measured, cut and hashed.

import { hash } from "node:crypto";

/**
 * The longest statement text a record keeps, in UTF-8 bytes: whole for practically every
 * statement people and programs write (a long reporting query is a few KiB), while the text stays
 * under 400 KiB even in its worst JSON form (a record, with its messages and captured output, about
 * half a MiB).
 */
export const MAX_AUDIT_TEXT_BYTES = 64 * 1024;
/** The longest text the record of a refused statement (denied, or a review refused) keeps, in UTF-8 bytes. */
export const MAX_REFUSED_TEXT_BYTES = 4 * 1024;
/** The longest reason or error message a record keeps, in UTF-8 bytes. */
export const MAX_AUDIT_MESSAGE_BYTES = 4 * 1024;

/** A text the record keeps only the start of. */
export interface CutText {
  /** the longest prefix of whole characters that fits the limit */
  text: string;
  /** the whole text's length in UTF-8 bytes */
  bytes: number;
  /** the hex SHA-256 of the whole text in UTF-8 */
  sha256: string;
}

/** undefined when `text` fits in `max` bytes of UTF-8 (the record keeps it whole); otherwise its start, length and digest */
export function cutText(text: string, max = MAX_AUDIT_TEXT_BYTES): CutText | undefined {
  // a UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair is 4 for 2), and at least 1
  if (text.length * 3 <= max) return undefined;
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes <= max) return undefined;
  return { text: utf8Prefix(text, max), bytes, sha256: hash("sha256", text, "hex") };
}

/** `message` as a record keeps it: whole when it fits in `max` bytes of UTF-8, else its start and how long it was */
export function clipMessage(message: string, max = MAX_AUDIT_MESSAGE_BYTES): string {
  if (message.length * 3 <= max) return message;
  const bytes = Buffer.byteLength(message, "utf8");
  return bytes <= max ? message : `${utf8Prefix(message, max)}… (${bytes} bytes, cut)`;
}

/**
 * The longest prefix of whole characters of `text` within `max` bytes of UTF-8, as a string of its
 * own: a slice would keep the whole text alive for as long as the record waits to be written.
 */
function utf8Prefix(text: string, max: number): string {
  // at most `max` code units, so at most 3 × max bytes to encode whatever the text's length
  const head = Buffer.from(text.length > max ? text.slice(0, max) : text, "utf8");
  let end = Math.min(max, head.length);
  // back to the start of the character the limit falls in (continuation bytes are 10xxxxxx)
  if (end < head.length) while (end > 0 && (head[end]! & 0xc0) === 0x80) end -= 1;
  return head.toString("utf8", 0, end);
}

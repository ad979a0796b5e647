// The few backend messages the gateway writes itself, and decoders for the few it reads.

export type Severity = "ERROR" | "FATAL";

export interface ErrorFields {
  severity: Severity;
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

/** The session must end: the upstream stream can no longer be followed, or a limit was passed. */
export class SessionEnd extends Error {
  constructor(readonly fields: ErrorFields) {
    super(fields.message);
  }
}

function message(type: string, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type.charCodeAt(0);
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

export function errorResponse(fields: ErrorFields): Buffer {
  const parts: string[] = [`S${fields.severity}`, `V${fields.severity}`, `C${fields.code}`, `M${fields.message}`];
  if (fields.detail !== undefined) parts.push(`D${fields.detail}`);
  if (fields.hint !== undefined) parts.push(`H${fields.hint}`);
  return message("E", Buffer.from(parts.map((p) => `${p}\0`).join("") + "\0", "utf8"));
}

export function noticeResponse(fields: { message: string; detail?: string; hint?: string }): Buffer {
  const parts: string[] = ["SNOTICE", "VNOTICE", "C01000", `M${fields.message}`];
  if (fields.detail !== undefined) parts.push(`D${fields.detail}`);
  if (fields.hint !== undefined) parts.push(`H${fields.hint}`);
  return message("N", Buffer.from(parts.map((p) => `${p}\0`).join("") + "\0", "utf8"));
}

export function authenticationRequest(code: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeInt32BE(code);
  return message("R", body);
}

export function backendKeyData(pid: number, secret: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeInt32BE(pid, 0);
  body.writeInt32BE(secret, 4);
  return message("K", body);
}

export function readyForQuery(status: number): Buffer {
  return message("Z", Buffer.from([status]));
}

/** NUL-terminated string at `offset`; throws on a missing terminator */
export function readCString(buf: Buffer, offset: number): { value: string; next: number } {
  const next = skipCString(buf, offset);
  return { value: buf.toString("utf8", offset, next - 1), next };
}

/** the offset past the NUL-terminated string at `offset`, not decoded; throws on a missing terminator */
export function skipCString(buf: Buffer, offset: number): number {
  const end = buf.indexOf(0, offset);
  if (end < 0) throw new RangeError("unterminated string");
  return end + 1;
}

/** an ErrorResponse/NoticeResponse field: its one-letter code and its value */
export type ErrorField = [code: string, value: string];

/** ErrorResponse/NoticeResponse fields in order; null unless a NUL ends the list and the message its length says */
export function decodeFieldList(frame: Buffer): ErrorField[] | null {
  if (frame.length < 6 || frame.readInt32BE(1) !== frame.length - 1) return null;
  const fields: ErrorField[] = [];
  for (let at = 5; at < frame.length; ) {
    if (frame[at] === 0) return at === frame.length - 1 ? fields : null;
    const end = frame.indexOf(0, at + 1);
    if (end < 0) return null;
    fields.push([String.fromCharCode(frame[at]!), frame.toString("utf8", at + 1, end)]);
    at = end + 1;
  }
  return null;
}

/** the value of the last field with `code` (as a later field of the same code overrides) */
export function fieldValue(fields: readonly ErrorField[], code: string): string | undefined {
  for (let i = fields.length - 1; i >= 0; i--) if (fields[i]![0] === code) return fields[i]![1];
  return undefined;
}

/** ErrorResponse/NoticeResponse fields by their one-letter code; throws when malformed (decodeFieldList) */
export function decodeFields(frame: Buffer): Map<string, string> {
  const fields = decodeFieldList(frame);
  if (fields === null) throw new RangeError("malformed error or notice fields");
  return new Map(fields);
}

/** Startup parameters: pairs of NUL-terminated strings after the protocol code */
export function decodeStartupParams(packet: Buffer): Map<string, string> {
  const params = new Map<string, string>();
  let at = 8;
  while (at < packet.length && packet[at] !== 0) {
    const key = readCString(packet, at);
    const value = readCString(packet, key.next);
    params.set(key.value, value.value);
    at = value.next;
  }
  if (at !== packet.length - 1) throw new RangeError("startup packet is not terminated");
  return params;
}

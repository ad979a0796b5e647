// The few backend messages the gateway writes itself, and decoders for the few it reads.

export type Severity = "ERROR" | "FATAL";

export interface ErrorFields {
  severity: Severity;
  code: string;
  message: string;
  detail?: string;
  hint?: string;
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
  const end = buf.indexOf(0, offset);
  if (end < 0) throw new RangeError("unterminated string");
  return { value: buf.toString("utf8", offset, end), next: end + 1 };
}

/** ErrorResponse/NoticeResponse fields by their one-letter code; throws unless a NUL ends the list and the message */
export function decodeFields(frame: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let at = 5;
  while (at < frame.length && frame[at] !== 0) {
    const code = String.fromCharCode(frame[at]!);
    const { value, next } = readCString(frame, at + 1);
    fields.set(code, value);
    at = next;
  }
  if (at !== frame.length - 1) throw new RangeError("error fields are not terminated");
  return fields;
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

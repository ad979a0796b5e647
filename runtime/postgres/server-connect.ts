// The server side of a session until ReadyForQuery: connect to the target (over TLS unless its
// mode is `disable`: upstream-socket.ts), authenticate with the stored credentials
// (SCRAM-SHA-256, md5, cleartext, trust), collect what the client must see.

import { createHash } from "node:crypto";
import type { Socket } from "node:net";
import { serialize } from "pg-protocol";
import type { PgTarget } from "./context.js";
import { parameterStatusProblem } from "./lexer-guard.js";
import { decodeFields, readCString } from "./messages.js";
import { PacketReader } from "./packet-reader.js";
import { SCRAM_SHA_256, ScramClient } from "./scram.js";
import { openUpstream, UpstreamError } from "./upstream-socket.js";

const CONNECT_TIMEOUT_MS = 10_000;
const MAX_STARTUP_MESSAGE = 1024 * 1024;
const STARTUP_TYPES: ReadonlySet<number> = new Set([..."RSKZENv"].map((c) => c.charCodeAt(0)));

/** Startup parameters a client may pass through; `options` and the like could change roles or settings the policy relies on. */
const FORWARDED_PARAMS = ["application_name", "client_encoding", "DateStyle", "TimeZone", "extra_float_digits", "IntervalStyle"];

export interface UpstreamSession {
  socket: Socket;
  /** bytes that arrived after ReadyForQuery */
  pending: Buffer;
  /** ParameterStatus and NoticeResponse messages, to relay to the client in order */
  relay: Buffer[];
  /** the backend's own cancel key; null when the server sent none */
  backendKey: { pid: number; secret: number } | null;
  /** ReadyForQuery status byte */
  status: number;
}

export async function connectUpstream(target: PgTarget, clientParams: ReadonlyMap<string, string>): Promise<UpstreamSession> {
  const socket = await openUpstream(target, CONNECT_TIMEOUT_MS);
  const reader = new PacketReader(socket, CONNECT_TIMEOUT_MS);
  try {
    const params: Record<string, string> = { user: target.user, database: target.database };
    for (const name of FORWARDED_PARAMS) {
      const value = clientParams.get(name);
      if (value !== undefined) params[name] = value;
    }
    socket.write(serialize.startup(params));
    await authenticate(socket, reader, target);
    const relay: Buffer[] = [];
    let backendKey: UpstreamSession["backendKey"] = null;
    for (;;) {
      const { type, frame } = await reader.readMessage(STARTUP_TYPES, MAX_STARTUP_MESSAGE);
      const letter = String.fromCharCode(type);
      if (letter === "Z") return { socket, pending: reader.detach(), relay, backendKey, status: frame[5]! };
      if (letter === "K") backendKey = { pid: frame.readInt32BE(5), secret: frame.readInt32BE(9) };
      else if (letter === "S" && parameterStatusProblem(frame)) throw new UpstreamError(parameterStatusProblem(frame)!);
      else if (letter === "S" || letter === "N") relay.push(frame);
      else if (letter === "E") throw upstreamError(frame);
      else throw new UpstreamError(`unexpected message "${letter}" during upstream startup`);
    }
  } catch (err) {
    reader.detach();
    socket.destroy();
    throw err;
  }
}

async function authenticate(socket: Socket, reader: PacketReader, target: PgTarget): Promise<void> {
  let scram: ScramClient | null = null;
  for (;;) {
    const { type, frame } = await reader.readMessage(STARTUP_TYPES, MAX_STARTUP_MESSAGE);
    if (type === 0x45) throw upstreamError(frame);
    if (type !== 0x52) throw new UpstreamError(`unexpected message "${String.fromCharCode(type)}" during upstream authentication`);
    const code = frame.readInt32BE(5);
    switch (code) {
      case 0:
        return;
      case 3:
        socket.write(serialize.password(requirePassword(target)));
        break;
      case 5: {
        const salt = frame.subarray(9, 13);
        const inner = md5Hex(Buffer.from(requirePassword(target) + target.user, "utf8"));
        socket.write(serialize.password("md5" + md5Hex(Buffer.concat([Buffer.from(inner), salt]))));
        break;
      }
      case 10: {
        const mechanisms = listMechanisms(frame);
        if (!mechanisms.includes(SCRAM_SHA_256)) {
          throw new UpstreamError(`upstream offers no supported SASL mechanism (${mechanisms.join(", ")})`);
        }
        scram = new ScramClient(requirePassword(target));
        socket.write(serialize.sendSASLInitialResponseMessage(SCRAM_SHA_256, scram.clientFirst()));
        break;
      }
      case 11:
        if (scram === null) throw new UpstreamError("SASL continue without a SASL exchange");
        socket.write(serialize.sendSCRAMClientFinalMessage(scram.clientFinal(frame.toString("utf8", 9))));
        break;
      case 12:
        if (scram === null) throw new UpstreamError("SASL final without a SASL exchange");
        scram.verifyServerFinal(frame.toString("utf8", 9));
        break;
      default:
        throw new UpstreamError(`upstream asks for unsupported authentication method ${code}`);
    }
  }
}

function listMechanisms(frame: Buffer): string[] {
  const names: string[] = [];
  let at = 9;
  while (at < frame.length && frame[at] !== 0) {
    const { value, next } = readCString(frame, at);
    names.push(value);
    at = next;
  }
  return names;
}

function requirePassword(target: PgTarget): string {
  if (target.password === undefined) throw new UpstreamError("upstream asks for a password but the connection has none configured");
  return target.password;
}

function md5Hex(data: Buffer): string {
  return createHash("md5").update(data).digest("hex");
}

function upstreamError(frame: Buffer): UpstreamError {
  const fields = decodeFields(frame);
  return new UpstreamError(`${fields.get("C") ?? "?????"}: ${fields.get("M") ?? "upstream error"}`);
}

// The server side of a session until ReadyForQuery: connect to the target (over TLS unless its
// mode is `disable`: upstream-socket.ts), authenticate with the stored credentials
// (SCRAM-SHA-256, md5, cleartext, trust — each only where the target allows it), collect what
// the client must see.

import { createHash } from "node:crypto";
import type { Socket } from "node:net";
import { serialize } from "pg-protocol";
import { UPSTREAM_AUTH_METHODS, type PgTarget, type UpstreamAuthMethod, type UpstreamTls } from "../context.js";
import { parameterStatusProblem } from "../lexer-guard.js";
import { decodeFields, readCString } from "../messages.js";
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

/**
 * The methods the gateway goes along with when a target sets none (libpq's `require_auth`,
 * with a stricter default): SCRAM-SHA-256 proves both sides know the password without
 * revealing it, and trust reveals nothing; a cleartext password, or an md5 hash (replayable
 * and cheap to brute-force), goes only to a server whose certificate the gateway verified.
 */
export function defaultAuthMethods(tls: UpstreamTls | undefined): readonly UpstreamAuthMethod[] {
  const verified = tls?.mode === "verify-ca" || tls?.mode === "verify-full";
  return verified ? UPSTREAM_AUTH_METHODS : ["scram-sha-256", "none"];
}

/** Why the gateway will not log in to `target` with `method` (for every connection it makes to it), or undefined. */
export function refusedAuthMethod(target: PgTarget, method: UpstreamAuthMethod): string | undefined {
  const allowed = target.requireAuth ?? defaultAuthMethods(target.tls);
  if (allowed.includes(method)) return undefined;
  const why = target.requireAuth === undefined && (method === "md5" || method === "password")
    ? `it is sent only over TLS that verifies the server (tls mode verify-ca or verify-full; this connection's is ${target.tls?.mode ?? "disable"}) unless require_auth lists ${method}`
    : `require_auth allows ${allowed.join(", ")}`;
  return `upstream asks for ${METHOD_NAMES[method]}, which the gateway refuses here: ${why}`;
}

const METHOD_NAMES: Record<UpstreamAuthMethod, string> = {
  "scram-sha-256": "SCRAM-SHA-256 authentication",
  md5: "an md5 password hash",
  password: "a cleartext password",
  none: "no authentication (trust)",
};

/**
 * Logs in with the stored credentials, going along only with the methods the target allows.
 * Once SCRAM starts, AuthenticationOk counts only after the server's signature verified (as
 * libpq does): an impostor that takes the proof and skips SASLFinal is refused.
 */
async function authenticate(socket: Socket, reader: PacketReader, target: PgTarget): Promise<void> {
  const allow = (method: UpstreamAuthMethod): void => {
    const refused = refusedAuthMethod(target, method);
    if (refused !== undefined) throw new UpstreamError(refused);
  };
  /** the method the upstream asked for; null until it asks (trust: AuthenticationOk straight away) */
  let asked: UpstreamAuthMethod | null = null;
  let scram: ScramClient | null = null;
  let scramStep: "first" | "final" | "verified" = "first";
  for (;;) {
    const { type, frame } = await reader.readMessage(STARTUP_TYPES, MAX_STARTUP_MESSAGE);
    if (type === 0x45) throw upstreamError(frame);
    if (type !== 0x52) throw new UpstreamError(`unexpected message "${String.fromCharCode(type)}" during upstream authentication`);
    const code = frame.readInt32BE(5);
    if (scram !== null && scramStep !== "verified" && code !== 11 && code !== 12) {
      throw new UpstreamError(code === 0
        ? "upstream ended SCRAM authentication without proving it knows the password (no server signature)"
        : `upstream switched to authentication method ${code} in the middle of a SCRAM exchange`);
    }
    if (asked !== null && (code === 3 || code === 5 || code === 10)) throw new UpstreamError("upstream asked for authentication a second time");
    switch (code) {
      case 0:
        if (asked === null) allow("none");
        return;
      case 3:
        allow((asked = "password"));
        socket.write(serialize.password(requirePassword(target)));
        break;
      case 5: {
        allow((asked = "md5"));
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
        allow((asked = "scram-sha-256"));
        scram = new ScramClient(requirePassword(target));
        socket.write(serialize.sendSASLInitialResponseMessage(SCRAM_SHA_256, scram.clientFirst()));
        break;
      }
      case 11:
        if (scram === null || scramStep !== "first") throw new UpstreamError("SASL continue out of order");
        socket.write(serialize.sendSCRAMClientFinalMessage(scram.clientFinal(frame.toString("utf8", 9))));
        scramStep = "final";
        break;
      case 12:
        if (scram === null || scramStep !== "final") throw new UpstreamError("SASL final out of order");
        scram.verifyServerFinal(frame.toString("utf8", 9));
        scramStep = "verified";
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

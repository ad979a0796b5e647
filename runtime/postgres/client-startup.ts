// The client side of a connection until authentication: SSLRequest/GSSENCRequest negotiation,
// CancelRequest, StartupMessage (database = connection name), and the token as the password.

import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import type { SessionPolicy } from "../engine/types.js";
import type { Identity } from "../facts/types.js";
import type { ProxyContext, PgTarget } from "./context.js";
import { FramingError } from "./framing.js";
import { authenticationRequest, decodeStartupParams, errorResponse, readCString, type ErrorFields } from "./messages.js";
import { PacketReader } from "./upstream/packet-reader.js";

const PROTOCOL_3_0 = 196608;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;
const AUTH_CLEARTEXT = 3;
/**
 * How long a client has from connecting to being authenticated — every SSLRequest/GSSENCRequest,
 * the TLS handshake, the StartupMessage, the token and its verification — like PostgreSQL's
 * `authentication_timeout` (one deadline, not one per packet). `limits.startup_timeout`.
 */
export const DEFAULT_STARTUP_TIMEOUT_MS = 15_000;
/**
 * Client connections the listener keeps open at once, in startup or in session; past it a new
 * one is refused with FATAL 53300 (server.ts). `limits.max_connections`.
 */
export const DEFAULT_MAX_CONNECTIONS = 1000;
/** how long a refused client has to read its refusal before its connection is cut */
const REFUSAL_GRACE_MS = 2_000;
const MAX_PASSWORD_MESSAGE = 64 * 1024;
const PASSWORD_TYPES: ReadonlySet<number> = new Set(["p".charCodeAt(0)]);

export interface AcceptedClient {
  kind: "session";
  socket: Socket;
  /** bytes the client sent after its password message (pipelined queries) */
  pending: Buffer;
  params: Map<string, string>;
  connection: string;
  target: PgTarget;
  identity: Identity;
  policy: SessionPolicy;
  tls: boolean;
}

export interface CancelAsk {
  kind: "cancel";
  pid: number;
  secret: number;
}

/** A refusal acceptClient already sent to the client, closing its connection: the caller only logs it. */
export class StartupRefused extends Error {
  constructor(
    readonly fields: ErrorFields,
    /** what the log says beyond the client's message (which connection was unknown, which policy refused) */
    readonly logDetail?: string,
  ) {
    super(fields.message);
  }
}

export interface StartupOptions {
  /** default DEFAULT_STARTUP_TIMEOUT_MS */
  timeoutMs?: number;
}

/**
 * Negotiates, then authenticates a client. Whatever it throws, the client's connection is
 * already dealt with: a StartupRefused or a FramingError was answered with its FATAL over the
 * socket in use (TLS once negotiated) and that connection ended, and on anything else (or
 * during the TLS handshake, where no answer can be framed) both sockets are destroyed. A
 * CancelAsk's connection is ended too.
 */
export async function acceptClient(raw: Socket, ctx: ProxyContext, options: StartupOptions = {}): Promise<AcceptedClient | CancelAsk> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let socket = raw;
  let reader = new PacketReader(socket, timeoutMs, deadline);
  let tls = false;
  let handshaking = false;
  // at most one of each, as PostgreSQL allows: repeating them would keep a connection in startup
  let sslAsked = false;
  let gssAsked = false;
  try {
    for (;;) {
      const packet = await reader.readStartup();
      const code = packet.readInt32BE(4);
      if (code === SSL_REQUEST) {
        if (sslAsked) throw refuse("08P01", "SSLRequest sent more than once");
        sslAsked = true;
        if (ctx.tls === undefined) {
          socket.write("N");
          continue;
        }
        // Bytes sent before the TLS handshake would be read as if they came over TLS.
        if (reader.buffered > 0) throw new FramingError("data sent after SSLRequest before the TLS handshake");
        reader.detach();
        socket.write("S");
        handshaking = true;
        socket = await upgrade(socket, ctx.tls, deadline);
        handshaking = false;
        reader = new PacketReader(socket, timeoutMs, deadline);
        tls = true;
        continue;
      }
      if (code === GSSENC_REQUEST) {
        if (gssAsked) throw refuse("08P01", "GSSENCRequest sent more than once");
        if (tls) throw refuse("08P01", "GSSENCRequest after the TLS handshake");
        gssAsked = true;
        socket.write("N");
        continue;
      }
      if (code === CANCEL_REQUEST && packet.length === 16) {
        reader.detach();
        closeClient(socket, raw, Buffer.alloc(0));
        return { kind: "cancel", pid: packet.readInt32BE(8), secret: packet.readInt32BE(12) };
      }
      if (code !== PROTOCOL_3_0) throw refuse("08P01", `unsupported startup request ${code}`);
      const accepted = await authenticate(socket, reader, packet, tls, deadline, ctx);
      return { ...accepted, pending: reader.detach() };
    }
  } catch (err) {
    reader.detach();
    const failure = err instanceof RangeError ? new FramingError(err.message) : err;
    closeClient(socket, raw, handshaking ? undefined : answer(failure));
    throw failure;
  }
}

/** What a client is told when its startup fails; undefined: nothing (its connection is cut). */
function answer(err: unknown): Buffer | undefined {
  if (err instanceof StartupRefused) return errorResponse(err.fields);
  if (err instanceof FramingError) return errorResponse({ severity: "FATAL", code: "08P01", message: `invalid startup: ${err.message}` });
  return undefined;
}

/**
 * Ends a client's connection: `answer` is written over `socket` (the TLS socket once
 * negotiated, else `raw`) and the connection ended, what the client still sends discarded (so
 * unread bytes do not turn the end into a reset that loses the answer); both sockets are
 * destroyed once it closes, or after a grace period when the client does not close it.
 * Without an answer both are destroyed at once.
 */
export function closeClient(socket: Socket, raw: Socket, answer?: Buffer): void {
  const destroy = (): void => {
    clearTimeout(timer);
    socket.destroy();
    raw.destroy();
  };
  const timer = setTimeout(destroy, REFUSAL_GRACE_MS);
  timer.unref();
  // a TLS record the client sends now fails on a socket nobody reads: not an uncaught error
  socket.on("error", destroy);
  raw.on("error", destroy);
  if (answer === undefined || socket.destroyed || !socket.writable) {
    destroy();
    return;
  }
  socket.once("close", destroy);
  raw.once("close", destroy);
  socket.resume();
  socket.end(answer);
}

/**
 * The token first, then the connection: a client learns whether a connection exists only by
 * being allowed on it. An unknown connection and one the identity may not use get the same
 * refusal (the log says which); a refusal that holds for every connection (no bundle, the
 * audit log failing) says why.
 */
async function authenticate(
  socket: Socket,
  reader: PacketReader,
  packet: Buffer,
  tls: boolean,
  deadline: number,
  ctx: ProxyContext,
): Promise<Omit<AcceptedClient, "pending">> {
  const params = decodeStartupParams(packet);
  const user = params.get("user");
  if (user === undefined) throw refuse("28000", "no user name in the startup packet");
  const connection = params.get("database") ?? user;
  const loopback = isLoopback(socket.remoteAddress);
  if (!tls && !(ctx.allowCleartextOnLoopback && loopback)) {
    throw refuse("28000", "the gateway accepts tokens only over TLS: connect with sslmode=require");
  }
  socket.write(authenticationRequest(AUTH_CLEARTEXT));
  const { frame } = await reader.readMessage(PASSWORD_TYPES, MAX_PASSWORD_MESSAGE);
  const token = readCString(frame, 5).value;
  let identity: Identity;
  try {
    identity = await beforeDeadline(ctx.verifyToken(token), deadline);
  } catch (err) {
    if (err instanceof StartupTimedOut) throw err;
    throw refuse("28P01", `token rejected: ${err instanceof Error ? err.message : String(err)}`);
  }
  const opened = ctx.openSession(identity, connection);
  if (!opened.ok && opened.gatewayWide === true) throw refuse("28000", `access to "${connection}" refused: ${opened.reason}`);
  const target = ctx.target(connection);
  if (target === undefined || !opened.ok) {
    const why = target === undefined ? `unknown connection "${connection}"` : opened.ok ? "" : opened.reason;
    throw refuse("28000", `access to "${connection}" refused: no such connection, or this identity may not use it`, `${identity.subject}: ${why}`);
  }
  return { kind: "session", socket, params, connection, target, identity, policy: opened.session, tls };
}

function refuse(code: string, message: string, logDetail?: string): StartupRefused {
  return new StartupRefused({ severity: "FATAL", code, message }, logDetail);
}

class StartupTimedOut extends FramingError {
  constructor() {
    super("startup timed out");
  }
}

/** `promise`, or a StartupTimedOut at `deadline` */
function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StartupTimedOut()), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

function upgrade(socket: Socket, tls: { key: string | Buffer; cert: string | Buffer }, deadline: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = new TLSSocket(socket, { isServer: true, key: tls.key, cert: tls.cert, minVersion: "TLSv1.2" });
    const timer = setTimeout(() => fail(new FramingError("TLS handshake timed out")), Math.max(0, deadline - Date.now()));
    const fail = (err: Error): void => {
      clearTimeout(timer);
      secure.destroy();
      reject(err);
    };
    secure.once("secure", () => {
      clearTimeout(timer);
      secure.off("error", fail);
      resolve(secure);
    });
    secure.once("error", fail);
  });
}

function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

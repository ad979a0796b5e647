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
const CANCEL_REQUEST = 80877102;
const AUTH_CLEARTEXT = 3;
const STARTUP_TIMEOUT_MS = 15_000;
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

/** A refusal already sent to the client: the caller only closes the socket. */
export class StartupRefused extends Error {
  constructor(
    readonly fields: ErrorFields,
    /** what the log says beyond the client's message (which connection was unknown, which policy refused) */
    readonly logDetail?: string,
  ) {
    super(fields.message);
  }
}

export async function acceptClient(raw: Socket, ctx: ProxyContext): Promise<AcceptedClient | CancelAsk> {
  let socket = raw;
  let reader = new PacketReader(socket, STARTUP_TIMEOUT_MS);
  let tls = false;
  try {
    for (;;) {
      const packet = await reader.readStartup();
      const code = packet.readInt32BE(4);
      if (code === SSL_REQUEST && !tls) {
        if (ctx.tls === undefined) {
          socket.write("N");
          continue;
        }
        // Bytes sent before the TLS handshake would be read as if they came over TLS.
        if (reader.buffered > 0) throw new FramingError("data sent after SSLRequest before the TLS handshake");
        reader.detach();
        socket.write("S");
        socket = await upgrade(socket, ctx.tls);
        reader = new PacketReader(socket, STARTUP_TIMEOUT_MS);
        tls = true;
        continue;
      }
      if (code === GSSENC_REQUEST && !tls) {
        socket.write("N");
        continue;
      }
      if (code === CANCEL_REQUEST && packet.length === 16) {
        reader.detach();
        return { kind: "cancel", pid: packet.readInt32BE(8), secret: packet.readInt32BE(12) };
      }
      if (code !== PROTOCOL_3_0) throw refuse("08P01", `unsupported startup request ${code}`);
      const accepted = await authenticate(socket, reader, packet, tls, ctx);
      return { ...accepted, pending: reader.detach() };
    }
  } catch (err) {
    reader.detach();
    throw err instanceof RangeError ? new FramingError(err.message) : err;
  }
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
    identity = await ctx.verifyToken(token);
  } catch (err) {
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

export function refusal(err: StartupRefused): Buffer {
  return errorResponse(err.fields);
}

function upgrade(socket: Socket, tls: { key: string | Buffer; cert: string | Buffer }): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = new TLSSocket(socket, { isServer: true, key: tls.key, cert: tls.cert, minVersion: "TLSv1.2" });
    const timer = setTimeout(() => fail(new FramingError("TLS handshake timed out")), STARTUP_TIMEOUT_MS);
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

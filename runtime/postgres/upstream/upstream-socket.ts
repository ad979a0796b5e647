// The socket to a target, for a session or a CancelRequest: TCP, then, unless the target's TLS
// mode is `disable`, SSLRequest and a TLS handshake that verifies the server as the mode says
// (libpq's sslmode: `require` encrypts, `verify-ca` checks the chain, `verify-full` the name too).

import { connect as tcpConnect, isIP, type Socket } from "node:net";
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions } from "node:tls";
import type { UpstreamTls } from "../context.js";

export class UpstreamError extends Error {}

export interface UpstreamAddress {
  host: string;
  port: number;
  /** absent: plain TCP, as with mode `disable` */
  tls?: UpstreamTls;
}

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]); // length 8, code 80877103
const SSL_YES = 0x53; // 'S'
const SSL_NO = 0x4e; // 'N'
const ERROR_RESPONSE = 0x45; // 'E'

/** TCP connect, then SSLRequest and the TLS handshake when the mode asks for it; all within `timeoutMs`. */
export async function openUpstream(address: UpstreamAddress, timeoutMs: number): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  const socket = await openTcp(address, timeoutMs);
  const tls = address.tls;
  if (tls === undefined || tls.mode === "disable") return socket;
  try {
    return await startTls(socket, address, tls, deadline);
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

function openTcp(address: UpstreamAddress, timeoutMs: number): Promise<Socket> {
  const socket = tcpConnect({ host: address.host, port: address.port });
  socket.setNoDelay(true);
  const where = `${address.host}:${address.port}`;
  return settle(socket, "connect", timeoutMs, `connecting to ${where} timed out`, (err) => `cannot reach ${where}: ${err.message}`);
}

/** `socket` once it emits `event`; destroyed, with an UpstreamError, on an error or after `timeoutMs` */
function settle(socket: Socket, event: "connect" | "secureConnect", timeoutMs: number, timedOut: string, failed: (err: Error) => string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new UpstreamError(timedOut));
    }, timeoutMs);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new UpstreamError(failed(err)));
    };
    socket.once(event, () => {
      clearTimeout(timer);
      socket.off("error", onError);
      resolve(socket);
    });
    socket.once("error", onError);
  });
}

async function startTls(socket: Socket, address: UpstreamAddress, tls: UpstreamTls, deadline: number): Promise<Socket> {
  const where = `${address.host}:${address.port}`;
  const setting = `${tls.setting}: mode ${tls.mode}`;
  socket.write(SSL_REQUEST);
  const answer = await readSslAnswer(socket, where, deadline);
  if (answer[0] === SSL_NO) {
    throw new UpstreamError(`upstream ${where} does not accept TLS (${setting}); set mode: disable only where plaintext is acceptable`);
  }
  if (answer[0] === ERROR_RESPONSE) throw new UpstreamError(`upstream ${where} answered the SSLRequest with an error (${setting})`);
  if (answer[0] !== SSL_YES) throw new UpstreamError(`upstream ${where} sent an invalid answer to the SSLRequest (${setting})`);
  // Bytes after the 'S' did not come through TLS: taking them as if they had lets a
  // man in the middle inject the first server messages (CVE-2021-23222).
  if (answer.length > 1 || socket.readableLength > 0) {
    throw new UpstreamError(`upstream ${where} sent unencrypted data after accepting TLS; refusing it as a possible injection (${setting})`);
  }
  return handshake(socket, address, tls, where, setting, deadline);
}

function readSslAnswer(socket: Socket, where: string, deadline: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, chunk?: Buffer): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onError);
      if (err === null) resolve(chunk!);
      else reject(err);
    };
    const onData = (chunk: Buffer): void => {
      // stop reading: what follows belongs to the TLS layer (or is refused above)
      socket.pause();
      done(null, chunk);
    };
    const onEnd = (): void => done(new UpstreamError(`upstream ${where} closed the connection after the SSLRequest`));
    const onError = (err: Error): void => done(new UpstreamError(`upstream ${where} failed during the SSLRequest: ${err.message}`));
    const timer = setTimeout(() => done(new UpstreamError(`upstream ${where} did not answer the SSLRequest in time`)), Math.max(0, deadline - Date.now()));
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("error", onError);
  });
}

/**
 * What verifies the server, as `tls.connect` (and node-postgres's `ssl`) take it, for a mode other
 * than `disable`. verify-ca checks the chain only; verify-full also the host name or address the
 * target names (node's default would check the SNI name, absent for an address).
 */
export function upstreamTlsOptions(host: string, tls: UpstreamTls): ConnectionOptions {
  return {
    rejectUnauthorized: tls.mode !== "require",
    checkServerIdentity: tls.mode === "verify-full" ? (_name, cert) => checkServerIdentity(host, cert) : () => undefined,
    ...(tls.ca !== undefined && { ca: tls.ca }),
    ...(tls.cert !== undefined && { cert: tls.cert }),
    ...(tls.privateKey !== undefined && { key: tls.privateKey }),
  };
}

function handshake(socket: Socket, address: UpstreamAddress, tls: UpstreamTls, where: string, setting: string, deadline: number): Promise<Socket> {
  const options: ConnectionOptions = {
    ...upstreamTlsOptions(address.host, tls),
    socket,
    // SNI: a name, never an address (RFC 6066)
    ...(isIP(address.host) === 0 && { servername: address.host }),
  };
  return settle(tlsConnect(options), "secureConnect", Math.max(0, deadline - Date.now()),
    `TLS handshake with upstream ${where} timed out (${setting})`,
    (err) => `TLS handshake with upstream ${where} failed (${setting}): ${err.message}`);
}

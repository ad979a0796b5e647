// Cancel keys: the gateway hands each client its own BackendKeyData and maps it to the
// upstream backend's key, so a CancelRequest reaches the right backend and nothing else. The
// CancelRequest goes out over the target's TLS mode, like libpq's PQcancelCreate (PostgreSQL
// 17; the older PQcancel always sends it in clear), and is dropped if that cannot be had.

import { randomInt, timingSafeEqual } from "node:crypto";
import type { Socket } from "node:net";
import { serialize } from "pg-protocol";
import { openUpstream, type UpstreamAddress } from "./upstream/upstream-socket.js";

const CANCEL_TIMEOUT_MS = 10_000;

/** a backend's cancel key, and where and how a CancelRequest reaches it */
export interface UpstreamKey extends UpstreamAddress {
  pid: number;
  secret: number;
}

interface Entry {
  secret: number;
  upstream: UpstreamKey;
  /**
   * The session's own part of a cancel; true when it took the cancel itself (a statement held for
   * approval never reached the backend, which must then not be interrupted in something else).
   */
  onCancel: () => boolean;
}

export class CancelRegistry {
  private readonly byPid = new Map<number, Entry>();

  /** a fresh gateway key for one session */
  register(upstream: UpstreamKey, onCancel: () => boolean): { pid: number; secret: number } {
    let pid: number;
    do pid = randomInt(1, 2 ** 31 - 1);
    while (this.byPid.has(pid));
    const secret = randomInt(-(2 ** 31), 2 ** 31 - 1);
    this.byPid.set(pid, { secret, upstream, onCancel });
    return { pid, secret };
  }

  unregister(pid: number): void {
    this.byPid.delete(pid);
  }

  /** a CancelRequest with this key: tells its session, and returns the backend to cancel unless the session took it */
  cancel(pid: number, secret: number): UpstreamKey | undefined {
    const entry = this.byPid.get(pid);
    if (entry === undefined) return undefined;
    const a = Buffer.alloc(4);
    const b = Buffer.alloc(4);
    a.writeInt32BE(entry.secret);
    b.writeInt32BE(secret);
    if (!timingSafeEqual(a, b)) return undefined;
    return entry.onCancel() ? undefined : entry.upstream;
  }
}

/** Sends a CancelRequest to the backend; like PostgreSQL, reports nothing back. */
export async function sendCancel(key: UpstreamKey): Promise<void> {
  let socket: Socket;
  try {
    socket = await openUpstream(key, CANCEL_TIMEOUT_MS);
  } catch {
    return;
  }
  await new Promise<void>((resolve) => {
    socket.setTimeout(CANCEL_TIMEOUT_MS, () => socket.destroy());
    socket.on("error", () => resolve());
    socket.on("close", () => resolve());
    // the server reads the request and closes; nothing it sends matters
    socket.resume();
    socket.end(serialize.cancel(key.pid, key.secret));
  });
}

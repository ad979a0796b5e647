// Cancel keys: the gateway hands each client its own BackendKeyData and maps it to the
// upstream backend's key, so a CancelRequest reaches the right backend and nothing else.

import { randomInt, timingSafeEqual } from "node:crypto";
import { connect } from "node:net";
import { serialize } from "pg-protocol";

export interface UpstreamKey {
  host: string;
  port: number;
  pid: number;
  secret: number;
}

export class CancelRegistry {
  private readonly byPid = new Map<number, { secret: number; upstream: UpstreamKey }>();

  /** a fresh gateway key for one session */
  register(upstream: UpstreamKey): { pid: number; secret: number } {
    let pid: number;
    do pid = randomInt(1, 2 ** 31 - 1);
    while (this.byPid.has(pid));
    const secret = randomInt(-(2 ** 31), 2 ** 31 - 1);
    this.byPid.set(pid, { secret, upstream });
    return { pid, secret };
  }

  unregister(pid: number): void {
    this.byPid.delete(pid);
  }

  lookup(pid: number, secret: number): UpstreamKey | undefined {
    const entry = this.byPid.get(pid);
    if (entry === undefined) return undefined;
    const a = Buffer.alloc(4);
    const b = Buffer.alloc(4);
    a.writeInt32BE(entry.secret);
    b.writeInt32BE(secret);
    return timingSafeEqual(a, b) ? entry.upstream : undefined;
  }
}

/** Sends a CancelRequest to the backend; like PostgreSQL, reports nothing back. */
export function sendCancel(key: UpstreamKey): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: key.host, port: key.port }, () => {
      socket.end(serialize.cancel(key.pid, key.secret));
    });
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on("error", () => resolve());
    socket.on("close", () => resolve());
  });
}

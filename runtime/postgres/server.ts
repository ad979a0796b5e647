// The PostgreSQL listener: accepts clients, routes CancelRequests, runs sessions.

import { createServer, type Socket } from "node:net";
import { CancelRegistry, sendCancel } from "./cancel.js";
import { Catalog } from "./masks/catalog.js";
import { acceptClient, CANCEL_REQUEST, closeClient, DEFAULT_MAX_CONNECTIONS, DEFAULT_STARTUP_TIMEOUT_MS, StartupRefused } from "./client-startup.js";
import type { PgTarget, ProxyContext } from "./context.js";
import { FramingError } from "./framing.js";
import { errorResponse } from "./messages.js";
import { runSession } from "./session.js";
import { targetKey } from "./upstream/target-identity.js";

/** how long a connection past the cap may take to say whether it is a CancelRequest */
const CANCEL_AT_CAPACITY_WAIT_MS = 1_000;

export interface PostgresProxyOptions {
  context: ProxyContext;
  host?: string;
  /** 0 or absent: any free port */
  port?: number;
  /** how long a client has to authenticate (limits.startup_timeout); default DEFAULT_STARTUP_TIMEOUT_MS */
  startupTimeoutMs?: number;
  /** client connections open at once, in startup or in session (limits.max_connections); default DEFAULT_MAX_CONNECTIONS */
  maxConnections?: number;
}

export interface PostgresProxy {
  port: number;
  close(): Promise<void>;
}

/** A catalog and who uses it: the sessions holding it, the connection names it was opened for. */
interface CatalogEntry {
  catalog: Catalog;
  sessions: number;
  connections: Set<string>;
}

export async function startPostgresProxy(options: PostgresProxyOptions): Promise<PostgresProxy> {
  const ctx = options.context;
  const cancels = new CancelRegistry();
  const sockets = new Set<Socket>();
  // One catalog per target (targetKey: where it leads and the credentials its pool logs in
  // with), never per connection name: a session's masks are resolved in the database it is
  // connected to, even after its connection was pointed elsewhere (the same table OID can name
  // another table in another database or cluster). A catalog no session holds and no
  // connection leads to any more is closed.
  const catalogs = new Map<string, CatalogEntry>();
  const current = (key: string, entry: CatalogEntry): boolean => [...entry.connections].some((name) => {
    const target = ctx.target(name);
    return target !== undefined && targetKey(target) === key;
  });
  const sweep = (): void => {
    for (const [key, entry] of catalogs) {
      if (entry.sessions > 0 || current(key, entry)) continue;
      catalogs.delete(key);
      void entry.catalog.close().catch(() => undefined);
    }
  };
  const acquire = (connection: string, target: PgTarget): CatalogEntry => {
    const key = targetKey(target);
    let entry = catalogs.get(key);
    if (entry === undefined) {
      entry = { catalog: new Catalog(target), sessions: 0, connections: new Set() };
      catalogs.set(key, entry);
    }
    entry.sessions += 1;
    entry.connections.add(connection);
    return entry;
  };
  const release = (entry: CatalogEntry): void => {
    entry.sessions -= 1;
    sweep();
  };
  const unsubscribe = ctx.accessChanges?.(sweep) ?? (() => undefined);

  const startupTimeoutMs = options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  // acceptClient answers and closes a client whose startup fails, over TLS once negotiated
  const handle = async (socket: Socket): Promise<void> => {
    socket.setNoDelay(true);
    let accepted;
    try {
      accepted = await acceptClient(socket, ctx, { timeoutMs: startupTimeoutMs });
    } catch (err) {
      if (err instanceof StartupRefused) {
        ctx.logger.info({ client: socket.remoteAddress, code: err.fields.code, ...(err.logDetail !== undefined && { detail: err.logDetail }) }, err.message);
      } else if (err instanceof FramingError) {
        ctx.logger.info({ client: socket.remoteAddress }, `startup failed: ${err.message}`);
      } else {
        ctx.logger.error({ err }, "startup failed");
        socket.destroy();
      }
      return;
    }
    if (accepted.kind === "cancel") {
      const upstream = cancels.cancel(accepted.pid, accepted.secret);
      if (upstream !== undefined) await sendCancel(upstream);
      return;
    }
    sockets.add(accepted.socket);
    accepted.socket.once("close", () => sockets.delete(accepted.socket));
    // the session's catalog is its target's, taken when it first needs one and given back at its end
    let held: CatalogEntry | undefined;
    const session = accepted;
    try {
      await runSession(session, {
        ctx, cancels,
        catalog: () => (held ??= acquire(session.connection, session.target)).catalog,
      });
    } finally {
      if (held !== undefined) release(held);
    }
  };

  const tooMany = errorResponse({ severity: "FATAL", code: "53300", message: "too many connections: the gateway is serving as many clients as it allows" });
  /**
   * Past the cap a CancelRequest (16 bytes, sent at once) is still served, as PostgreSQL serves
   * it past max_connections: a client must be able to stop a runaway statement when the gateway
   * is full. Anything else gets 53300 as soon as its first 8 bytes say what it is.
   */
  const atCapacity = (socket: Socket): void => {
    let head = Buffer.alloc(0);
    const stop = (): void => {
      clearTimeout(timer);
      socket.off("data", read);
    };
    const refuse = (): void => {
      stop();
      closeClient(socket, socket, tooMany);
    };
    const read = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (head.length < 8) return;
      if (head.readInt32BE(0) !== 16 || head.readInt32BE(4) !== CANCEL_REQUEST) return refuse();
      if (head.length < 16) return;
      stop();
      const upstream = cancels.cancel(head.readInt32BE(8), head.readInt32BE(12));
      closeClient(socket, socket);
      if (upstream !== undefined) void sendCancel(upstream);
    };
    const timer = setTimeout(refuse, CANCEL_AT_CAPACITY_WAIT_MS);
    timer.unref();
    socket.on("data", read);
  };

  // Every client connection counts, from accept to close, so connections held in startup (which
  // cost a TLS handshake and a token verification) are capped as sessions are.
  let clients = 0;
  let full = false;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    if (clients >= maxConnections) {
      // once per time the cap is reached, not per refused connection
      if (!full) ctx.logger.warn({ max: maxConnections }, "too many client connections: refusing new ones (limits.max_connections)");
      full = true;
      atCapacity(socket);
      return;
    }
    clients += 1;
    socket.once("close", () => {
      clients -= 1;
      if (clients < maxConnections) full = false;
    });
    handle(socket).catch((err: unknown) => {
      ctx.logger.error({ err }, "session crashed");
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the PostgreSQL listener has no TCP address");
  return {
    port: address.port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      unsubscribe();
      for (const socket of sockets) socket.destroy();
      await closed;
      const open = [...catalogs.values()];
      catalogs.clear();
      await Promise.all(open.map((c) => c.catalog.close()));
    },
  };
}

// The PostgreSQL listener: accepts clients, routes CancelRequests, runs sessions.

import { createServer, type Socket } from "node:net";
import { CancelRegistry, sendCancel } from "./cancel.js";
import { Catalog } from "./catalog.js";
import { acceptClient, refusal, StartupRefused } from "./client-startup.js";
import type { ProxyContext } from "./context.js";
import { FramingError } from "./framing.js";
import { errorResponse } from "./messages.js";
import { runSession } from "./session.js";

export interface PostgresProxyOptions {
  context: ProxyContext;
  host?: string;
  /** 0 or absent: any free port */
  port?: number;
}

export interface PostgresProxy {
  port: number;
  close(): Promise<void>;
}

export async function startPostgresProxy(options: PostgresProxyOptions): Promise<PostgresProxy> {
  const ctx = options.context;
  const cancels = new CancelRegistry();
  const catalogs = new Map<string, Catalog>();
  const sockets = new Set<Socket>();
  const catalog = (connection: string): Catalog => {
    let found = catalogs.get(connection);
    if (found === undefined) {
      const target = ctx.target(connection);
      if (target === undefined) throw new Error(`unknown connection "${connection}"`);
      found = new Catalog(target);
      catalogs.set(connection, found);
    }
    return found;
  };

  const handle = async (socket: Socket): Promise<void> => {
    socket.setNoDelay(true);
    let accepted;
    try {
      accepted = await acceptClient(socket, ctx);
    } catch (err) {
      if (err instanceof StartupRefused) {
        ctx.logger.info({ client: socket.remoteAddress, code: err.fields.code, ...(err.logDetail !== undefined && { detail: err.logDetail }) }, err.message);
        socket.end(refusal(err));
      } else if (err instanceof FramingError) {
        ctx.logger.info({ client: socket.remoteAddress }, `startup failed: ${err.message}`);
        socket.end(errorResponse({ severity: "FATAL", code: "08P01", message: `invalid startup: ${err.message}` }));
      } else {
        ctx.logger.error({ err }, "startup failed");
        socket.destroy();
      }
      return;
    }
    if (accepted.kind === "cancel") {
      socket.end();
      const upstream = cancels.cancel(accepted.pid, accepted.secret);
      if (upstream !== undefined) await sendCancel(upstream);
      return;
    }
    sockets.add(accepted.socket);
    accepted.socket.once("close", () => sockets.delete(accepted.socket));
    await runSession(accepted, { ctx, cancels, catalog });
  };

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
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
      for (const socket of sockets) socket.destroy();
      await closed;
      await Promise.all([...catalogs.values()].map((c) => c.close()));
    },
  };
}

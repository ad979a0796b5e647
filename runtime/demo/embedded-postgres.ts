// An in-memory PostgreSQL for the demo: PGlite (PostgreSQL compiled to WebAssembly) served
// over the wire protocol by pglite-socket, so the gateway reaches it like any server. It
// accepts any user without a password (trust), on loopback only.

import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface EmbeddedPostgres {
  db: PGlite;
  host: string;
  port: number;
  user: string;
  database: string;
  close(): Promise<void>;
}

/** Sessions the gateway may hold at once: clients plus the catalog pool's two. */
const MAX_CONNECTIONS = 16;

export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: MAX_CONNECTIONS });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  const conn = server.getServerConn();
  const port = Number(conn.slice(conn.lastIndexOf(":") + 1));
  return {
    db,
    host: "127.0.0.1",
    port,
    user: "postgres",
    database: "postgres",
    async close() {
      await server.stop();
      await db.close();
    },
  };
}

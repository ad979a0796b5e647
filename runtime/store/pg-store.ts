// The store on a real PostgreSQL: a pg Pool for queries and transactions, and one dedicated
// connection for LISTEN that reconnects (re-listening every channel) when it drops.

import pg from "pg";
import type { Logger } from "../log.js";
import type { Queryable, Row, Store } from "./types.js";

const RECONNECT_MS = [100, 500, 2_000, 5_000];

type Handler = (payload: string) => void;

export async function openPgStore(url: string, logger: Logger): Promise<Store> {
  const location = redactUrl(url);
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on("error", (err) => logger.warn({ err }, `store ${location}: idle connection failed`));
  try {
    await pool.query("select 1");
  } catch (err) {
    await pool.end();
    throw new Error(`store ${location} is not reachable: ${(err as Error).message}`);
  }
  const listener = new Listener(url, location, logger);
  return {
    kind: "postgres",
    location,
    query: (text, params) => runQuery(pool, text, params),
    exec: (sql) => runScript(pool, sql),
    async copyIn(target, rows) {
      const client = await pool.connect();
      try {
        await copyIn(client, target, rows);
      } finally {
        client.release();
      }
    },
    async transaction(body) {
      const client = await pool.connect();
      try {
        await client.query("begin");
        const result = await body({
          query: (text, params) => runQuery(client, text, params),
          exec: (sql) => runScript(client, sql),
          copyIn: (target, rows) => copyIn(client, target, rows),
        });
        await client.query("commit");
        return result;
      } catch (err) {
        await client.query("rollback").catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    listen: (channel, handler) => listener.add(channel, handler),
    async close() {
      await listener.close();
      await pool.end();
    },
  };
}

async function runQuery<R extends Row>(on: pg.Pool | pg.PoolClient, text: string, params?: unknown[]): Promise<R[]> {
  const result = await on.query<R>(text, params);
  return result.rows;
}

/** without parameters the driver sends the simple protocol, which runs every statement and answers each */
async function runScript<R extends Row>(on: pg.Pool | pg.PoolClient, sql: string): Promise<R[]> {
  const results = (await on.query<R>(sql)) as pg.QueryResult<R> | pg.QueryResult<R>[];
  return (Array.isArray(results) ? results.at(-1)?.rows : results.rows) ?? [];
}

/** the driver's own queries refuse COPY FROM STDIN; a submittable answers the server's CopyInResponse */
function copyIn(client: pg.PoolClient, target: string, rows: string): Promise<void> {
  return new Promise((resolve, reject) => {
    client.query({
      submit: (connection: pg.Connection) => connection.query(`copy ${target} from stdin`),
      handleCopyInResponse(connection: CopyConnection) {
        connection.sendCopyFromChunk(Buffer.from(rows));
        connection.endCopyFrom();
      },
      handleCommandComplete: () => undefined,
      handleReadyForQuery: () => resolve(),
      // an ErrorResponse (or a lost connection) ends the query: no ReadyForQuery reaches it after
      handleError: (error: Error) => reject(error),
    });
  });
}

/** the connection's COPY messages, which @types/pg does not declare */
type CopyConnection = pg.Connection & { sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void };

class Listener {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private readonly channels = new Map<string, Set<Handler>>();
  private closed = false;
  private attempt = 0;

  constructor(private readonly url: string, private readonly location: string, private readonly logger: Logger) {}

  async add(channel: string, handler: Handler): Promise<() => Promise<void>> {
    let handlers = this.channels.get(channel);
    if (handlers === undefined) {
      handlers = new Set();
      this.channels.set(channel, handlers);
      const client = await this.connected();
      await client.query(`listen ${pg.escapeIdentifier(channel)}`);
    }
    handlers.add(handler);
    return async () => {
      handlers.delete(handler);
      if (handlers.size > 0 || this.channels.get(channel) !== handlers) return;
      this.channels.delete(channel);
      await this.client?.query(`unlisten ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
    };
  }

  private connected(): Promise<pg.Client> {
    if (this.client !== undefined) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url });
    client.on("notification", (message) => {
      for (const handler of this.channels.get(message.channel) ?? []) handler(message.payload ?? "");
    });
    client.on("error", (err) => {
      this.logger.warn({ err }, `store ${this.location}: LISTEN connection failed, reconnecting`);
      this.drop(client);
    });
    client.on("end", () => this.drop(client));
    await client.connect();
    for (const channel of this.channels.keys()) await client.query(`listen ${pg.escapeIdentifier(channel)}`);
    this.client = client;
    this.attempt = 0;
    return client;
  }

  private drop(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (this.closed || this.channels.size === 0) return;
    const delay = RECONNECT_MS[Math.min(this.attempt++, RECONNECT_MS.length - 1)]!;
    setTimeout(() => {
      if (this.closed) return;
      this.connected().catch((err: unknown) => {
        this.logger.warn({ err }, `store ${this.location}: LISTEN reconnect failed`);
        this.drop(client);
      });
    }, delay).unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}

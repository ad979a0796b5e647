// The store's one small interface (DESIGN.md §5 "Store"): the same SQL runs on a real PostgreSQL
// (pg Pool, shared by gateway replicas) and on PGlite (embedded, one process).

export type Row = Record<string, unknown>;

export interface Queryable {
  query<R extends Row = Row>(text: string, params?: unknown[]): Promise<R[]>;
  /** several `;`-separated statements without parameters, in one round trip: the last one's rows */
  exec<R extends Row = Row>(sql: string): Promise<R[]>;
  /**
   * COPY `rows` into `target` (a table and its columns, as COPY names them): text format, one
   * line per row, fields separated by tabs, `\N` for null, backslash, tab, CR and LF escaped
   */
  copyIn(target: string, rows: string): Promise<void>;
}

export interface Store extends Queryable {
  readonly kind: "postgres" | "pglite";
  /** where the data lives, without credentials: for logs and errors */
  readonly location: string;
  /** runs `body` in one transaction: committed when it resolves, rolled back when it throws */
  transaction<T>(body: (tx: Queryable) => Promise<T>): Promise<T>;
  /** LISTEN on `channel`; payloads of NOTIFYs committed by any writer reach `handler`; returns the unsubscribe */
  listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

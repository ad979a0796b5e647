// The embedded store: PGlite (PostgreSQL compiled to WebAssembly) persisted in a directory.
// One process owns the directory; LISTEN/NOTIFY work inside that process.

import { mkdir } from "node:fs/promises";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import type { Queryable, Row, Store } from "./types.js";

/** `dir` undefined: in memory (tests, `hoopgate demo`) */
export async function openPgliteStore(dir: string | undefined): Promise<Store> {
  if (dir !== undefined) await mkdir(dir, { recursive: true, mode: 0o700 });
  const db = await PGlite.create(dir === undefined ? undefined : { dataDir: dir });
  const on = (target: PGlite | Transaction): Queryable => ({
    async query<R extends Row>(text: string, params?: unknown[]) {
      return (await target.query<R>(text, params)).rows;
    },
    async exec(sql: string) {
      await target.exec(sql);
    },
  });
  return {
    kind: "pglite",
    location: dir ?? "(in memory)",
    ...on(db),
    transaction: (body) => db.transaction((tx) => body(on(tx))),
    listen: (channel, handler) => db.listen(channel, handler),
    close: () => db.close(),
  };
}

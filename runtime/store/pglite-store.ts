// The embedded store: PGlite (PostgreSQL compiled to WebAssembly) persisted in `<dir>/pgdata`.
// PGlite is single-process: a lock file beside the data refuses a second opener (another
// gateway, or `hoopgate audit` while the gateway runs) instead of letting both corrupt it.
// LISTEN/NOTIFY work inside the owning process.

import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import type { Queryable, Row, Store } from "./types.js";

const LOCK_FILE = "store.lock";

/** `dir` undefined: in memory (tests, `hoopgate demo`) */
export async function openPgliteStore(dir: string | undefined): Promise<Store> {
  const release = dir === undefined ? async () => undefined : await lock(dir);
  let db: PGlite;
  try {
    db = await PGlite.create(dir === undefined ? undefined : { dataDir: join(dir, "pgdata") });
  } catch (err) {
    await release();
    throw new Error(`embedded store ${dir ?? "(in memory)"} cannot be opened: ${(err as Error).message}`);
  }
  const on = (target: PGlite | Transaction): Queryable => ({
    async query<R extends Row>(text: string, params?: unknown[]) {
      return (await target.query<R>(text, params)).rows;
    },
    async exec<R extends Row>(sql: string) {
      return ((await target.exec(sql)).at(-1)?.rows ?? []) as R[];
    },
    async copyIn(into: string, rows: string) {
      await target.query(`copy ${into} from '/dev/blob'`, [], { blob: new Blob([rows]) });
    },
  });
  return {
    kind: "pglite",
    location: dir ?? "(in memory)",
    ...on(db),
    transaction: (body) => db.transaction((tx) => body(on(tx))),
    listen: (channel, handler) => db.listen(channel, handler),
    async close() {
      await db.close();
      await release();
    },
  };
}

async function lock(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, "wx", 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => rm(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
    if (Number.isInteger(owner) && alive(owner)) {
      throw new Error(`embedded store ${dir} is in use by process ${owner}${owner === process.pid ? " (this one)" : ""}: PGlite allows one process; stop it, or read through the gateway's API`);
    }
    await rm(path, { force: true }); // left by a process that is gone
  }
  throw new Error(`embedded store ${dir}: cannot take the lock ${path}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

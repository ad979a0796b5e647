// Opens the configured store and brings its schema up to date.

import type { StoreConfig } from "../config/types.js";
import type { Logger } from "../log.js";
import { migrate } from "./migrate.js";
import { openPgliteStore } from "./pglite-store.js";
import { openPgStore } from "./pg-store.js";
import type { Store } from "./types.js";

/** A `postgres://` or `postgresql://` URL, or a PGlite directory. */
export function storeConfigFrom(text: string): StoreConfig {
  return /^postgres(ql)?:\/\//.test(text) ? { kind: "postgres", url: text } : { kind: "pglite", dir: text };
}

export async function openStore(config: StoreConfig | { kind: "memory" }, logger: Logger): Promise<Store> {
  const store =
    config.kind === "postgres" ? await openPgStore(config.url, logger)
    : await openPgliteStore(config.kind === "pglite" ? config.dir : undefined);
  try {
    await migrate(store);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

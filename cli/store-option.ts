// `--config gateway.yaml` or `--store URL|DIR`: the store the audit commands read.

import { loadConfig } from "../runtime/config/index.js";
import { createLogger } from "../runtime/log.js";
import { openStore, storeConfigFrom, type Store } from "../runtime/store/index.js";
import { UsageError } from "./args.js";

export const storeOptions = { config: { type: "string" }, store: { type: "string" } } as const;

export async function openStoreFrom(values: { config?: string; store?: string }): Promise<Store> {
  if (values.config !== undefined && values.store !== undefined) throw new UsageError("give --config or --store, not both");
  if (values.config === undefined && values.store === undefined) throw new UsageError("which store? give --config gateway.yaml or --store URL|DIR");
  const config = values.store !== undefined ? storeConfigFrom(values.store) : (await loadConfig(values.config!)).store;
  return openStore(config, createLogger({ level: "warn" }));
}

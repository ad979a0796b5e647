export type { Queryable, Row, Store } from "./types.js";
export { openStore, storeConfigFrom } from "./open.js";
export { migrate } from "./migrate.js";
export { MIGRATIONS, type Migration } from "./schema.js";

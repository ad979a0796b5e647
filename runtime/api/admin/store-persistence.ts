// Admin objects in the gateway's store (PostgreSQL or PGlite): one row holding the document,
// replaced in a transaction, with a NOTIFY so other gateway replicas reload it and apply the
// change live too.

import type { Store } from "../../store/types.js";
import { emptyAdminDocument, type AdminDocument } from "./document.js";
import type { AdminPersistence } from "./persistence.js";

export const ADMIN_CHANNEL = "hoopgate_admin";

export function storeAdminPersistence(store: Store): AdminPersistence {
  return {
    location: `${store.location} (admin_state)`,
    async load() {
      const rows = await store.query<{ document: AdminDocument | string }>("select document from admin_state where id");
      const row = rows[0];
      if (row === undefined) return emptyAdminDocument();
      const document = typeof row.document === "string" ? (JSON.parse(row.document) as AdminDocument) : row.document;
      return { ...emptyAdminDocument(), ...document };
    },
    async save(document) {
      await store.transaction(async (tx) => {
        await tx.query(
          `insert into admin_state (id, document, updated_at) values (true, $1::jsonb, now())
           on conflict (id) do update set document = excluded.document, updated_at = excluded.updated_at`,
          [JSON.stringify(document)],
        );
        await tx.query("select pg_notify($1, '')", [ADMIN_CHANNEL]);
      });
    },
    async watch(onChange) {
      return store.listen(ADMIN_CHANNEL, () => onChange());
    },
  };
}

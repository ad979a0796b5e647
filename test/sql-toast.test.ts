// TOAST relations hold a table's large values under another name, out of reach of the rules and
// masks on the table: a statement naming one is refused, whatever the policy.

import { beforeAll, describe, expect, it } from "vitest";
import { extractSqlFacts, loadSqlParser } from "../runtime/facts/sql/index.js";

beforeAll(loadSqlParser);

function refused(sql: string): string {
  const f = extractSqlFacts(sql);
  expect(f, sql).toMatchObject({ ok: false, refused: true });
  return f.ok ? "" : f.error;
}

describe("TOAST relations", () => {
  it.each([
    "SELECT encode(substr(chunk_data, 1, 40), 'escape') FROM pg_toast.pg_toast_36134",
    "SELECT * FROM mydb.pg_toast.pg_toast_36134",
    "SELECT * FROM \"pg_toast\".\"pg_toast_36134\"",
    "TABLE pg_toast.pg_toast_36134",
    "SELECT 1 WHERE EXISTS (SELECT 1 FROM pg_toast.pg_toast_36134 WHERE chunk_id = 1)",
    "WITH c AS (SELECT chunk_data FROM pg_toast.pg_toast_36134) SELECT * FROM c",
    "COPY pg_toast.pg_toast_36134 TO STDOUT",
    "CREATE VIEW v AS SELECT * FROM pg_toast.pg_toast_36134",
    "DECLARE c CURSOR FOR SELECT * FROM pg_toast.pg_toast_36134",
    "SELECT * FROM pg_toast_temp_3.pg_toast_40384",
    "SELECT * FROM pg_toast.pg_toast_36134_index",
  ])("refuses %s", (sql) => {
    expect(refused(sql)).toMatch(/^pg_toast(_temp_\d+)?\.pg_toast_\d+(_index)? is not allowed through the gateway: a TOAST relation/);
  });

  it.each([
    // an unqualified name cannot reach pg_toast: search_path never holds it through the gateway
    "SELECT * FROM pg_toast_36134",
    "SELECT reltoastrelid::regclass FROM pg_class WHERE relname = 'payment_methods'",
    "SELECT 'pg_toast.pg_toast_36134'::regclass",
    "SELECT nspname FROM pg_namespace WHERE nspname = 'pg_toast'",
  ])("allows %s", (sql) => {
    expect(extractSqlFacts(sql).ok).toBe(true);
  });

  it("refuses putting pg_toast in search_path", () => {
    expect(refused("SET search_path = pg_toast, public")).toMatch(/search_path/);
    expect(refused("SELECT set_config('search_path', 'pg_toast', false)")).toMatch(/search_path/);
  });
});

// The benchmark database on the machine's PostgreSQL: pgbench's tables (scale 10) plus a
// 10,000-row table for the large-result workload and a small customers table the policy masks.

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

export const BENCH_DB = { host: "127.0.0.1", port: 5432, user: "postgres", database: "hoopgate_bench" };
export const LARGE_ROWS = 10_000;
/** the gateway's own store (approvals, hash-chained audit log), as a deployment would run it */
export const STORE_DB = "hoopgate_bench_store";

export async function prepareBenchDatabase(): Promise<void> {
  const admin = new pg.Client({ ...BENCH_DB, database: "postgres" });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`the pgbench bench needs PostgreSQL on 127.0.0.1:5432 (trust, user postgres): ${String(error)}`);
  }
  const { rowCount } = await admin.query("select 1 from pg_database where datname = $1", [BENCH_DB.database]);
  if (rowCount === 0) await admin.query(`create database ${BENCH_DB.database}`);
  // a fresh store each run: the audit chain's length should not vary between runs
  await admin.query(`drop database if exists ${STORE_DB} with (force)`);
  await admin.query(`create database ${STORE_DB}`);
  await admin.end();

  const db = new pg.Client(BENCH_DB);
  await db.connect();
  try {
    const initialized = await db.query("select to_regclass('public.pgbench_accounts') is not null as ok");
    if (initialized.rows[0]?.ok !== true) {
      await run("pgbench", ["-i", "-s", "10", "-q", "-h", BENCH_DB.host, "-p", String(BENCH_DB.port), "-U", BENCH_DB.user, BENCH_DB.database]);
    }
    await db.query(`create table if not exists bench_large (id int primary key, name text, email text, city text, note text)`);
    const { rows } = await db.query<{ n: number }>("select count(*)::int as n from bench_large");
    if (rows[0]?.n !== LARGE_ROWS) {
      await db.query("truncate bench_large");
      await db.query(
        `insert into bench_large
         select i, 'Customer ' || i, 'customer' || i || '@example.com', (array['Lisbon','Berlin','Austin','Osaka'])[1 + i % 4],
                'account opened in ' || (2000 + i % 25) || ', plan ' || (array['free','team','business'])[1 + i % 3]
           from generate_series(1, ${LARGE_ROWS}) i`,
      );
    }
    await db.query("create table if not exists customers (id int primary key, email text, phone text)");
    await db.query("vacuum analyze bench_large");
  } finally {
    await db.end();
  }
}

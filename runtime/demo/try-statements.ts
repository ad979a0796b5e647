// Runs the demo's statements through the gateway as the client would, so the banner shows
// what each one really returns.

import pg from "pg";
import type { DemoStatement } from "./scenario.js";

export type StatementResult =
  | { ok: true; columns: string[]; rows: string[][] }
  | { ok: false; code: string; message: string; detail?: string };

export interface TryTarget {
  port: number;
  database: string;
  user: string;
  token: string;
}

export async function tryStatements(target: TryTarget, statements: readonly DemoStatement[]): Promise<StatementResult[]> {
  const client = new pg.Client({
    host: "127.0.0.1",
    port: target.port,
    database: target.database,
    user: target.user,
    password: target.token,
  });
  await client.connect();
  try {
    const results: StatementResult[] = [];
    for (const statement of statements) results.push(await run(client, statement.sql));
    return results;
  } finally {
    await client.end();
  }
}

async function run(client: pg.Client, sql: string): Promise<StatementResult> {
  try {
    const result = await client.query<unknown[]>({ text: sql, rowMode: "array" });
    return {
      ok: true,
      columns: result.fields.map((f) => f.name),
      rows: result.rows.map((row) => row.map(display)),
    };
  } catch (error) {
    const e = error as pg.DatabaseError;
    if (typeof e.code !== "string") throw error;
    return { ok: false, code: e.code, message: e.message, ...(e.detail !== undefined && { detail: e.detail }) };
  }
}

function display(value: unknown): string {
  if (value === null) return "NULL";
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return String(value);
}

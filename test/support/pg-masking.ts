// Helpers for masking tests through a real gateway: a client per role, and a statement's rows
// compared with what the same statement shows without the gateway.

import pg from "pg";
import { expect } from "vitest";
import type { Gateway } from "./pg-gateway.js";

export interface MaskingProbe {
  /** a client of the gateway for a token with this role claim, on this connection */
  withClient<T>(role: string, body: (c: pg.Client) => Promise<T>, database?: string): Promise<T>;
  /** the statement's rows over the simple protocol and over the extended one (a named statement) */
  bothProtocols(c: pg.Client, sql: string): Promise<{ simple: unknown[][]; extended: unknown[][] }>;
  /** shows clear values without the gateway, none through it, the same over both protocols */
  expectMasked(c: pg.Client, sql: string): Promise<unknown[][]>;
  /** the same rows through the gateway as without it */
  expectClear(c: pg.Client, sql: string): Promise<void>;
}

/**
 * gw() and direct() are read when a helper runs (the gateway starts in beforeAll); `clear`
 * matches every masked value in clear; `database` is the gateway's connection name.
 */
export function maskingProbe(gw: () => Gateway, direct: () => pg.Client, clear: RegExp, database: string): MaskingProbe {
  let statementNo = 0;

  async function withClient<T>(role: string, body: (c: pg.Client) => Promise<T>, connection = database): Promise<T> {
    const client = new pg.Client({ host: "127.0.0.1", port: gw().proxy.port, user: "ci", database: connection, password: await gw().token(role) });
    await client.connect();
    try {
      return await body(client);
    } finally {
      await client.end();
    }
  }

  async function bothProtocols(c: pg.Client, sql: string): Promise<{ simple: unknown[][]; extended: unknown[][] }> {
    const simple = await c.query({ text: sql, rowMode: "array" });
    statementNo += 1;
    const extended = await c.query({ name: `probe_${statementNo}`, text: sql, rowMode: "array" });
    return { simple: simple.rows, extended: extended.rows };
  }

  async function expectMasked(c: pg.Client, sql: string): Promise<unknown[][]> {
    const unmasked = await direct().query({ text: sql, rowMode: "array" });
    // without the gateway the statement must show clear values, or the test proves nothing
    expect(JSON.stringify(unmasked.rows), `${sql} (direct)`).toMatch(clear);
    const { simple, extended } = await bothProtocols(c, sql);
    expect(JSON.stringify(simple), `${sql} (simple)`).not.toMatch(clear);
    expect(JSON.stringify(extended), `${sql} (extended)`).not.toMatch(clear);
    expect(extended, sql).toEqual(simple);
    return simple;
  }

  async function expectClear(c: pg.Client, sql: string): Promise<void> {
    const want = await direct().query({ text: sql, rowMode: "array" });
    const { simple, extended } = await bothProtocols(c, sql);
    expect(simple, `${sql} (simple)`).toEqual(want.rows);
    expect(extended, `${sql} (extended)`).toEqual(want.rows);
  }

  return { withClient, bothProtocols, expectMasked, expectClear };
}

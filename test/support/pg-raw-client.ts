// A minimal PostgreSQL client over a socket that returns result values as the exact bytes the
// server (or the gateway) sent: pg decodes every field as UTF-8, which loses binary values.

import { connect, type Socket } from "node:net";
import { serialize } from "pg-protocol";

export interface RawResult {
  /** per column: name, type OID, format (0 text, 1 binary) */
  fields: { name: string; typeOid: number; format: number }[];
  rows: (Buffer | null)[][];
}

export interface RawConnection {
  host: string;
  port: number;
  user: string;
  database: string;
  password?: string;
}

/**
 * Runs `sql` with text parameters `values` over the extended protocol, asking for every result
 * column in `format` (0 text, 1 binary); rejects with the server's error message.
 */
export async function rawQuery(conn: RawConnection, sql: string, values: string[], format: 0 | 1): Promise<RawResult> {
  const socket = connect({ host: conn.host, port: conn.port });
  const messages = frames(socket);
  try {
    socket.write(serialize.startup({ user: conn.user, database: conn.database }));
    for (;;) {
      const { type, body } = await messages.next();
      if (type === "R" && body.readInt32BE(0) === 3) socket.write(serialize.password(conn.password ?? ""));
      else if (type === "R" && body.readInt32BE(0) !== 0) throw new Error(`unsupported authentication request ${body.readInt32BE(0)}`);
      else if (type === "E") throw new Error(errorMessage(body));
      else if (type === "Z") break;
    }
    socket.write(Buffer.concat([
      serialize.parse({ text: sql, types: [] }),
      serialize.bind({ values, binary: format === 1 }),
      serialize.describe({ type: "P" }),
      serialize.execute({}),
      serialize.sync(),
    ]));
    const result: RawResult = { fields: [], rows: [] };
    let error: string | undefined;
    for (;;) {
      const { type, body } = await messages.next();
      if (type === "T") result.fields = rowDescription(body);
      else if (type === "D") result.rows.push(dataRow(body));
      else if (type === "E") error = errorMessage(body);
      else if (type === "Z") break;
    }
    if (error !== undefined) throw new Error(error);
    socket.end(serialize.end());
    return result;
  } finally {
    socket.destroy();
  }
}

/** the socket's messages, one at a time */
function frames(socket: Socket): { next(): Promise<{ type: string; body: Buffer }> } {
  let buffered = Buffer.alloc(0);
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  socket.on("data", (data: Buffer) => {
    buffered = Buffer.concat([buffered, data]);
    wake?.();
  });
  const fail = (err: Error): void => {
    failure ??= err;
    wake?.();
  };
  socket.on("error", fail);
  socket.on("close", () => fail(new Error("connection closed")));
  return {
    async next() {
      for (;;) {
        if (buffered.length >= 5 && buffered.length >= 1 + buffered.readInt32BE(1)) {
          const end = 1 + buffered.readInt32BE(1);
          const frame = { type: String.fromCharCode(buffered[0]!), body: buffered.subarray(5, end) };
          buffered = buffered.subarray(end);
          return frame;
        }
        if (failure !== undefined) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

function rowDescription(body: Buffer): RawResult["fields"] {
  const fields: RawResult["fields"] = [];
  let at = 2;
  for (let i = body.readInt16BE(0); i > 0; i--) {
    const nul = body.indexOf(0, at);
    const name = body.toString("utf8", at, nul);
    at = nul + 1;
    fields.push({ name, typeOid: body.readInt32BE(at + 6), format: body.readInt16BE(at + 16) });
    at += 18;
  }
  return fields;
}

function dataRow(body: Buffer): (Buffer | null)[] {
  const row: (Buffer | null)[] = [];
  let at = 2;
  for (let i = body.readInt16BE(0); i > 0; i--) {
    const len = body.readInt32BE(at);
    at += 4;
    row.push(len < 0 ? null : Buffer.from(body.subarray(at, at + len)));
    if (len > 0) at += len;
  }
  return row;
}

function errorMessage(body: Buffer): string {
  for (let at = 0; at < body.length && body[at] !== 0; ) {
    const nul = body.indexOf(0, at + 1);
    if (body[at] === 0x4d) return body.toString("utf8", at + 1, nul); // 'M'
    at = nul + 1;
  }
  return "error without a message";
}

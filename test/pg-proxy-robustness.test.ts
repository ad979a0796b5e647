// Malformed and truncated frames over many connections: the gateway stays up, a concurrent
// well-behaved session is unaffected, and nothing of a frame the gateway could not parse reaches
// the upstream. Every malformed frame carries `insert into canary …`: the canary table staying
// empty proves none was forwarded (a forwarded frame the server could parse would insert a row).

import { connect, type Socket } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freshDatabase, PG, startGateway, type Gateway } from "./support/pg-gateway.js";

const DB = "hoopgate_pgrobust";
const INSERT = "insert into canary values (1)";

const policy = (issuer: string): string => `
connection robust { kind = postgres }
group bots {
  issuer = "${issuer}"
  when   = claims.role == "bot"
}
policy bots {
  subjects    = [group.bots]
  connections = [connection.robust]
  allow when sql.command in [select, insert]
}
`;

let gw: Gateway;
let direct: pg.Client;

beforeAll(async () => {
  await freshDatabase(DB);
  direct = new pg.Client({ ...PG, database: DB });
  await direct.connect();
  await direct.query("create table canary (n int); create table ok (n int)");
  gw = await startGateway({ policy, targets: { robust: { ...PG, database: DB } } });
});

afterAll(async () => {
  await direct?.end();
  await gw?.close();
});

/** a deterministic PRNG so a failure can be replayed */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function message(type: string, body: Buffer, length = body.length + 4): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, "latin1");
  head.writeInt32BE(length, 1);
  return Buffer.concat([head, body]);
}

const cstr = (s: string): Buffer => Buffer.from(`${s}\0`);

function startup(token: string): Buffer[] {
  const params = Buffer.concat([cstr("user"), cstr("ci"), cstr("database"), cstr("robust"), Buffer.from([0])]);
  const packet = Buffer.alloc(8);
  packet.writeInt32BE(8 + params.length);
  packet.writeInt32BE(196608, 4);
  return [Buffer.concat([packet, params]), message("p", cstr(token))];
}

/** malformed frame number i: each embeds the canary insert */
function malformed(i: number, rand: () => number): { preAuth: boolean; bytes: Buffer } {
  const query = cstr(INSERT);
  const junk = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
  switch (i % 10) {
    case 0: // garbage instead of a startup packet
      return { preAuth: true, bytes: Buffer.concat([junk, message("Q", query)]) };
    case 1: { // startup packet with an absurd length
      const b = Buffer.alloc(8);
      b.writeInt32BE(rand() < 0.5 ? 3 : 1_000_000 + Math.floor(rand() * 1e6));
      b.writeInt32BE(196608, 4);
      return { preAuth: true, bytes: Buffer.concat([b, message("Q", query)]) };
    }
    case 2: // a Query truncated mid-body, then the connection closes
      return { preAuth: false, bytes: message("Q", query).subarray(0, 5 + Math.floor(rand() * (query.length - 1))) };
    case 3: // a length larger than what follows
      return { preAuth: false, bytes: message("Q", query, query.length + 4 + 1 + Math.floor(rand() * 1000)) };
    case 4: // a length below the minimum
      return { preAuth: false, bytes: message("Q", query, Math.floor(rand() * 4) - (rand() < 0.5 ? 0 : 1_000_000)) };
    case 5: { // an unknown message type
      const types = "abgijklmoqrsuvwxyz0456789!@#";
      return { preAuth: false, bytes: message(types[Math.floor(rand() * types.length)]!, query) };
    }
    case 6: // over the message size limit
      return { preAuth: false, bytes: message("Q", query, 200 * 1024 * 1024) };
    case 7: // a Query whose text has no terminator
      return { preAuth: false, bytes: message("Q", Buffer.from(INSERT)) };
    case 8: // a Parse whose statement text has no terminator
      return { preAuth: false, bytes: message("P", Buffer.concat([cstr(""), Buffer.from(INSERT)])) };
    default: // a password message where a query belongs, or junk after a valid header
      return { preAuth: false, bytes: rand() < 0.5 ? message("p", query) : Buffer.concat([Buffer.from([0x51]), junk]) };
  }
}

function send(port: number, parts: Buffer[], token: string | null): Promise<void> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: "127.0.0.1", port });
    let phase = token === null ? 1 : 0;
    const chunks = token === null ? parts : [...startup(token), ...parts];
    const done = (): void => {
      socket.destroy();
      resolve();
    };
    socket.setTimeout(10_000, done);
    socket.on("error", done);
    socket.on("close", done);
    socket.on("connect", () => {
      if (token === null) socket.end(Buffer.concat(chunks));
      else socket.write(chunks[0]!);
    });
    let seen = Buffer.alloc(0);
    socket.on("data", (data: Buffer) => {
      if (phase === 1) return;
      seen = Buffer.concat([seen, data]);
      // after AuthenticationCleartextPassword send the token; after ReadyForQuery the malformed frame
      if (seen.includes(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])) && chunks.length === parts.length + 2 && !socket.writableEnded) {
        socket.write(chunks[1]!);
        chunks.splice(1, 1);
      }
      if (seen.includes(Buffer.from([0x5a, 0, 0, 0, 5]))) {
        phase = 1;
        socket.end(Buffer.concat(parts));
      }
    });
  });
}

it("survives 1,000 malformed frames; other sessions unaffected; nothing forwarded", { timeout: 180_000 }, async () => {
  const rand = prng(20240601);
  const token = await gw.token("bot", "1h");
  const good = new pg.Client({ host: "127.0.0.1", port: gw.proxy.port, user: "ci", database: "robust", password: token });
  await good.connect();
  let stop = false;
  let goodQueries = 0;
  const steady = (async () => {
    while (!stop) {
      await good.query("insert into ok values ($1)", [goodQueries]);
      const r = await good.query("select count(*)::int as n from ok");
      goodQueries += 1;
      expect(r.rows[0].n).toBe(goodQueries);
    }
  })();

  const frames = Array.from({ length: 1000 }, (_, i) => malformed(i, rand));
  const concurrency = 16;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < frames.length) {
        const frame = frames[next++]!;
        await send(gw.proxy.port, [frame.bytes], frame.preAuth ? null : token);
      }
    }),
  );
  stop = true;
  await steady;

  expect(goodQueries).toBeGreaterThan(10);
  expect((await good.query("select 1 as one")).rows[0]).toEqual({ one: 1 });
  await good.end();
  expect((await direct.query("select count(*)::int as n from canary")).rows[0]).toEqual({ n: 0 });
  // the gateway still accepts new sessions
  const after = new pg.Client({ host: "127.0.0.1", port: gw.proxy.port, user: "ci", database: "robust", password: token });
  await after.connect();
  expect((await after.query("select count(*)::int as n from ok")).rows[0]).toEqual({ n: goodQueries });
  await after.end();
});

it("forwards the same frame when it is well formed (the canary check can fail)", async () => {
  const token = await gw.token("bot");
  await send(gw.proxy.port, [message("Q", cstr(INSERT)), message("X", Buffer.alloc(0))], token);
  await new Promise((r) => setTimeout(r, 200));
  expect((await direct.query("select count(*)::int as n from canary")).rows[0]).toEqual({ n: 1 });
});

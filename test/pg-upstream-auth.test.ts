// How the gateway logs in upstream when the upstream may be an impostor (TLS mode disable or
// require: nothing authenticates the server but the login itself). A fake upstream asks for each
// method in turn: the gateway must finish SCRAM only with the server's signature verified (as
// libpq does), and must not hand a cleartext password or an md5 hash to a server it has not
// verified unless the connection's require_auth allows it. The real PostgreSQL's SCRAM and md5
// logins are in test/pg-proxy.test.ts.

import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PgTarget, UpstreamTls } from "../runtime/postgres/context.js";
import { Catalog } from "../runtime/postgres/masks/catalog.js";
import { connectUpstream, defaultAuthMethods } from "../runtime/postgres/upstream/server-connect.js";
import { startGateway, type Gateway } from "./support/pg-gateway.js";

const PASSWORD = "the-stored-password";

const msg = (type: string, body: Buffer): Buffer => {
  const b = Buffer.alloc(5 + body.length);
  b.write(type, 0, "latin1");
  b.writeInt32BE(4 + body.length, 1);
  body.copy(b, 5);
  return b;
};
const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const auth = (code: number, extra = Buffer.alloc(0)): Buffer => msg("R", Buffer.concat([int32(code), extra]));
const READY = Buffer.concat([
  auth(0),
  msg("S", Buffer.from("standard_conforming_strings\0on\0")),
  msg("S", Buffer.from("client_encoding\0UTF8\0")),
  msg("K", Buffer.concat([int32(1), int32(2)])),
  msg("Z", Buffer.from("I")),
]);
const ROW = Buffer.concat([
  msg("T", Buffer.concat([Buffer.from([0, 1]), Buffer.from("v\0"), int32(0), Buffer.from([0, 0]), int32(25), Buffer.from([255, 255]), int32(-1), Buffer.from([0, 0])])),
  msg("D", Buffer.concat([Buffer.from([0, 1]), int32(8), Buffer.from("impostor")])),
  msg("C", Buffer.from("SELECT 1\0")),
  msg("Z", Buffer.from("I")),
]);

const EMPTY_EXTENDED = Buffer.concat([msg("1", Buffer.alloc(0)), msg("2", Buffer.alloc(0)), msg("n", Buffer.alloc(0)), msg("C", Buffer.from("SELECT 0\0")), msg("Z", Buffer.from("I"))]);

type Script =
  /** SCRAM, then AuthenticationOk without SASLFinal */
  | "scram-no-final"
  /** SCRAM with a server signature that does not match */
  | "scram-bad-signature"
  /** SCRAM done right (the fake knows the password) */
  | "scram-good"
  | "cleartext"
  | "md5"
  | "trust";

interface Fake {
  port: number;
  /** what each connection's client sent after its startup packet: message types, and the password messages' text */
  seen: string[];
  close(): Promise<void>;
}

const hmac = (key: Buffer, text: string): Buffer => createHmac("sha256", key).update(text).digest();

/** A fake upstream that runs `script` on every connection. */
async function fakeUpstream(script: Script): Promise<Fake> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock: Socket) => {
    sockets.add(sock);
    sock.once("close", () => sockets.delete(sock));
    let buf = Buffer.alloc(0);
    let started = false;
    let clientFirstBare = "";
    let serverFirst = "";
    sock.on("error", () => undefined);
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (!started) {
          if (buf.length < 4 || buf.length < buf.readInt32BE(0)) return;
          buf = buf.subarray(buf.readInt32BE(0));
          started = true;
          if (script === "cleartext") sock.write(auth(3));
          else if (script === "md5") sock.write(auth(5, Buffer.from([1, 2, 3, 4])));
          else if (script === "trust") sock.write(READY);
          else sock.write(auth(10, Buffer.from("SCRAM-SHA-256\0\0")));
          continue;
        }
        if (buf.length < 5 || buf.length < 1 + buf.readInt32BE(1)) return;
        const m = buf.subarray(0, 1 + buf.readInt32BE(1));
        buf = buf.subarray(m.length);
        const type = String.fromCharCode(m[0]!);
        if (type === "Q") {
          seen.push("Q");
          sock.write(ROW);
          continue;
        }
        if (type === "S") {
          // an extended-protocol query (the catalog's): parsed, bound, no rows
          seen.push("S");
          sock.write(EMPTY_EXTENDED);
          continue;
        }
        if (type !== "p") {
          seen.push(type);
          continue;
        }
        if (script === "cleartext" || script === "md5") {
          seen.push(`p ${m.toString("utf8", 5, m.length - 1)}`);
          sock.write(READY);
        } else if (serverFirst === "") {
          // SASLInitialResponse: mechanism, int32 length, client-first-message
          const text = m.toString("utf8");
          // client-first-message = gs2 header "n,," + client-first-bare (the user name: empty, or "*" from node-postgres)
          clientFirstBare = text.slice(text.indexOf("n,,") + 3);
          const nonce = /r=([^,\0]+)/.exec(text)![1]!;
          seen.push("p client-first");
          serverFirst = `r=${nonce}IMPOSTOR,s=${Buffer.from("saltsalt").toString("base64")},i=4096`;
          sock.write(auth(11, Buffer.from(serverFirst)));
        } else {
          seen.push("p client-final");
          const clientFinal = m.toString("utf8", 5);
          const withoutProof = clientFinal.slice(0, clientFinal.indexOf(",p="));
          const salted = pbkdf2Sync(PASSWORD, Buffer.from("saltsalt"), 4096, 32, "sha256");
          const signature = hmac(hmac(salted, "Server Key"), `${clientFirstBare},${serverFirst},${withoutProof}`);
          if (script === "scram-no-final") sock.write(READY);
          else if (script === "scram-bad-signature") sock.write(Buffer.concat([auth(12, Buffer.from(`v=${createHash("sha256").update("x").digest("base64")}`)), READY]));
          else sock.write(Buffer.concat([auth(12, Buffer.from(`v=${signature.toString("base64")}`)), READY]));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    seen,
    close: () => {
      for (const sock of sockets) sock.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const tls = (mode: UpstreamTls["mode"]): UpstreamTls => ({ mode, setting: "connections.fake.tls" });
const target = (fake: Fake, extra: Partial<PgTarget> = {}): PgTarget => ({
  host: "127.0.0.1", port: fake.port, user: "app", database: "app", password: PASSWORD, tls: tls("disable"), ...extra,
});

async function login(fake: Fake, extra: Partial<PgTarget> = {}): Promise<string> {
  try {
    const session = await connectUpstream(target(fake, extra), new Map());
    session.socket.destroy();
    return "logged in";
  } catch (err) {
    return `refused: ${(err as Error).message}`;
  }
}

const fakes: Partial<Record<Script, Fake>> = {};
const fake = (script: Script): Fake => fakes[script]!;

beforeAll(async () => {
  for (const script of ["scram-no-final", "scram-bad-signature", "scram-good", "cleartext", "md5", "trust"] as const) fakes[script] = await fakeUpstream(script);
});

afterAll(async () => {
  for (const f of Object.values(fakes)) await f.close();
});

describe("SCRAM-SHA-256 upstream", () => {
  it("refuses AuthenticationOk before the server signature (SASLFinal)", async () => {
    expect(await login(fake("scram-no-final"))).toBe("refused: upstream ended SCRAM authentication without proving it knows the password (no server signature)");
  });

  it("refuses a server signature that does not match", async () => {
    expect(await login(fake("scram-bad-signature"))).toBe("refused: server signature does not match");
  });

  it("logs in when the server proves it knows the password, over plain TCP too", async () => {
    expect(await login(fake("scram-good"))).toBe("logged in");
    expect(await login(fake("scram-good"), { tls: undefined })).toBe("logged in");
  });

  it("refuses SCRAM when require_auth leaves it out", async () => {
    expect(await login(fake("scram-good"), { requireAuth: ["md5"] })).toBe("refused: upstream asks for SCRAM-SHA-256 authentication, which the gateway refuses here: require_auth allows md5");
  });
});

describe("cleartext and md5 passwords", () => {
  it("are not sent to a server that TLS did not verify, unless require_auth allows them", async () => {
    for (const mode of [undefined, "disable"] as const) {
      const extra = { tls: mode === undefined ? undefined : tls(mode) };
      expect(await login(fake("cleartext"), extra)).toBe(
        `refused: upstream asks for a cleartext password, which the gateway refuses here: it is sent only over TLS that verifies the server (tls mode verify-ca or verify-full; this connection's is ${mode ?? "disable"}) unless require_auth lists password`,
      );
      expect(await login(fake("md5"), extra)).toMatch(/^refused: upstream asks for an md5 password hash, which the gateway refuses here: it is sent only over TLS that verifies the server .* unless require_auth lists md5$/);
    }
    expect(fake("cleartext").seen).toEqual([]);
    expect(fake("md5").seen).toEqual([]);
    expect(await login(fake("cleartext"), { requireAuth: ["password"] })).toBe("logged in");
    expect(fake("cleartext").seen).toEqual([`p ${PASSWORD}`]);
    expect(await login(fake("md5"), { requireAuth: ["scram-sha-256", "md5"] })).toBe("logged in");
    expect(fake("md5").seen).toEqual([expect.stringMatching(/^p md5[0-9a-f]{32}$/)]);
    expect(await login(fake("md5"), { requireAuth: ["password"] })).toBe("refused: upstream asks for an md5 password hash, which the gateway refuses here: require_auth allows password");
  });

  it("are allowed by default only where TLS verifies the server", () => {
    expect(defaultAuthMethods(undefined)).toEqual(["scram-sha-256", "none"]);
    expect(defaultAuthMethods(tls("disable"))).toEqual(["scram-sha-256", "none"]);
    expect(defaultAuthMethods(tls("require"))).toEqual(["scram-sha-256", "none"]);
    expect(defaultAuthMethods(tls("verify-ca"))).toEqual(["scram-sha-256", "md5", "password", "none"]);
    expect(defaultAuthMethods(tls("verify-full"))).toEqual(["scram-sha-256", "md5", "password", "none"]);
  });
});

describe("trust", () => {
  it("is accepted by default and refused when require_auth leaves out none", async () => {
    expect(await login(fake("trust"))).toBe("logged in");
    expect(await login(fake("trust"), { requireAuth: ["scram-sha-256"] })).toBe("refused: upstream asks for no authentication (trust), which the gateway refuses here: require_auth allows scram-sha-256");
  });
});

describe("the catalog's own connections (they carry the same password)", () => {
  async function catalogLogin(f: Fake, extra: Partial<PgTarget> = {}): Promise<string> {
    const catalog = new Catalog(target(f, extra));
    try {
      await catalog.relation(1);
      return "logged in";
    } catch (err) {
      return `refused: ${(err as Error).message}`;
    } finally {
      await catalog.close();
    }
  }

  it("follow the sessions' rules: no password to an unverified server, no SCRAM without the server's signature", async () => {
    const before = fake("cleartext").seen.length;
    expect(await catalogLogin(fake("cleartext"))).toMatch(/^refused: upstream asks for a cleartext password, which the gateway refuses here/);
    expect(fake("cleartext").seen.slice(before)).toEqual([]);
    expect(await catalogLogin(fake("md5"))).toMatch(/^refused: upstream asks for an md5 password hash/);
    expect(await catalogLogin(fake("scram-no-final"))).toBe("refused: upstream ended SCRAM authentication without proving it knows the password (no server signature)");
    expect(await catalogLogin(fake("trust"), { requireAuth: ["scram-sha-256"] })).toMatch(/^refused: upstream asks for no authentication \(trust\)/);
  });

  it("log in where the sessions do", async () => {
    // the fakes answer the catalog's lookup with no rows
    expect(await catalogLogin(fake("scram-good"))).toBe("logged in");
    expect(await catalogLogin(fake("cleartext"), { requireAuth: ["password"] })).toBe("logged in");
  });
});

describe("through the proxy", () => {
  const policy = (issuer: string): string => `
connection nofinal { kind = postgres }
connection cleartext { kind = postgres }
connection good { kind = postgres }
group bots {
  issuer = "${issuer}"
  when   = claims.role == "bot"
}
policy bots {
  subjects    = [group.bots]
  connections = [connection.nofinal, connection.cleartext, connection.good]
  allow when sql.command == select
}
`;
  let gw: Gateway;

  beforeAll(async () => {
    gw = await startGateway({
      policy,
      targets: { nofinal: target(fake("scram-no-final")), cleartext: target(fake("cleartext")), good: target(fake("scram-good")) },
    });
  });

  afterAll(async () => {
    await gw?.close();
  });

  const query = async (connection: string): Promise<unknown> => {
    const client = new pg.Client({ host: "127.0.0.1", port: gw.proxy.port, user: "ci", database: connection, password: await gw.token("bot") });
    try {
      await client.connect();
      return (await client.query("select v from secrets")).rows;
    } catch (err) {
      return { code: (err as { code?: string }).code, message: (err as Error).message };
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  it("gives the client FATAL 08001 and never opens a session on an upstream that skipped its proof", async () => {
    const before = fake("scram-no-final").seen.length;
    expect(await query("nofinal")).toEqual({ code: "08001", message: 'cannot connect to "nofinal" upstream' });
    expect(fake("scram-no-final").seen.slice(before)).not.toContain("Q");
    const cleartextBefore = fake("cleartext").seen.length;
    expect(await query("cleartext")).toEqual({ code: "08001", message: 'cannot connect to "cleartext" upstream' });
    expect(fake("cleartext").seen.slice(cleartextBefore)).toEqual([]);
    expect(await query("good")).toEqual([{ v: "impostor" }]);
  });
});

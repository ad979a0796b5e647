// A misbehaving or malicious upstream (a compromised database host, a man in the middle): the
// gateway is pointed at a fake upstream that answers the startup properly, then replies to each
// query with scripted bytes, many of them malformed. A fake is the only way to test this: a real
// PostgreSQL never sends malformed messages. The session's policy masks emails by detector (no
// catalog lookup needed, the masking rewrite still runs on every row), and every scripted DataRow
// and CopyData carries the canary address. For each script: the client gets a FATAL 08P01 naming
// the upstream, or a clean close, never a hang; what it received is whole, well-formed messages;
// the canary never appears in clear; the gateway stays up, and a session on the real PostgreSQL
// and one on a well-behaved fake keep working throughout. The scripts that break framing or the
// message sequence run against an unmasked session too, which streams rows through unread.

import { connect, createServer, type Server, type Socket } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { seededRandom } from "../runtime/seeded-random.js";
import { freshDatabase, PG, startGateway, type Gateway } from "./support/pg-gateway.js";

const DB = "hoopgate_pgupstream";
const CANARY = "c4n4ry.leak@example.com";
const CANARY_MARK = Buffer.from("c4n4ry");
const SEED = 20250611;
const CASE_TIMEOUT_MS = 8_000;

const policy = (issuer: string): string => `
connection fake { kind = postgres }
connection real { kind = postgres }
group bots {
  issuer = "${issuer}"
  when   = claims.role == "bot"
}
group plain {
  issuer = "${issuer}"
  when   = claims.role == "plain"
}
policy bots {
  subjects    = [group.bots]
  connections = [connection.fake, connection.real]
  allow when sql.command in [select, copy]
  mask detect [email]
}
policy plain {
  subjects    = [group.plain]
  connections = [connection.fake]
  allow when sql.command in [select, copy]
}
`;

// ---------------------------------------------------------------- backend messages, as bytes

function msg(type: string | number, body: Buffer, length = body.length + 4): Buffer {
  const head = Buffer.alloc(5);
  head[0] = typeof type === "number" ? type : type.charCodeAt(0);
  head.writeInt32BE(length, 1);
  return Buffer.concat([head, body]);
}

const cstr = (s: string): Buffer => Buffer.from(`${s}\0`);
const int16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeInt16BE(n); return b; };
const int32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };

interface Column { name: string; typeOid: number; format?: number }
const TEXT = 25;
const INT4 = 23;
const COLUMNS: Column[] = [{ name: "id", typeOid: INT4 }, { name: "email", typeOid: TEXT }, { name: "note", typeOid: TEXT }];

function rowDescription(columns: Column[]): Buffer {
  const parts = [int16(columns.length)];
  for (const c of columns) {
    parts.push(cstr(c.name), int32(0), int16(0), int32(c.typeOid), int16(c.typeOid === INT4 ? 4 : -1), int32(-1), int16(c.format ?? 0));
  }
  return msg("T", Buffer.concat(parts));
}

/** fields as given; `count` overrides the field count */
function dataRow(values: (string | null)[], count = values.length): Buffer {
  const parts = [int16(count)];
  for (const v of values) {
    if (v === null) parts.push(int32(-1));
    else parts.push(int32(Buffer.byteLength(v)), Buffer.from(v));
  }
  return msg("D", Buffer.concat(parts));
}

const commandComplete = (tag: string): Buffer => msg("C", cstr(tag));
const readyForQuery = (status = "I"): Buffer => msg("Z", Buffer.from(status, "latin1"));
const errorFields = (fields: Record<string, string>): Buffer =>
  Buffer.concat([...Object.entries(fields).map(([k, v]) => cstr(k + v)), Buffer.from([0])]);
const errorResponse = (fields: Record<string, string>): Buffer => msg("E", errorFields(fields));
const notice = (text: string): Buffer => msg("N", errorFields({ S: "NOTICE", V: "NOTICE", C: "00000", M: text }));
const parameterStatus = (name: string, value: string): Buffer => msg("S", Buffer.concat([cstr(name), cstr(value)]));
const authentication = (code: number, extra = Buffer.alloc(0)): Buffer => msg("R", Buffer.concat([int32(code), extra]));
const copyOutResponse = (columns: number): Buffer => msg("H", Buffer.concat([Buffer.from([0]), int16(columns), ...Array.from({ length: columns }, () => int16(0))]));
const copyData = (line: string): Buffer => msg("d", Buffer.from(line));
const copyDone = (): Buffer => msg("c", Buffer.alloc(0));

/** the rows of a well-formed answer: each one carries the canary */
function rows(n: number, rand: () => number): (string | null)[][] {
  return Array.from({ length: n }, (_, i) => [String(i + 1), rand() < 0.5 ? CANARY : `x${i}@example.org`, rand() < 0.3 ? null : `write to ${CANARY} today`]);
}

function answer(values: (string | null)[][]): Buffer[] {
  return [rowDescription(COLUMNS), ...values.map((v) => dataRow(v)), commandComplete(`SELECT ${values.length}`), readyForQuery()];
}

// ---------------------------------------------------------------- the scripted cases

/** what the client must see; every case also gets the invariants of `problems` */
type Outcome =
  /** the session ends with the gateway's FATAL 08P01 naming the upstream */
  | "fatal"
  /** a FATAL 08P01 naming the upstream, or a plain close (an upstream that closed between two messages) */
  | "fatal-or-close"
  /**
   * unmasked sessions stream rows through as they come: that, or the connection closed inside a
   * message the client was receiving, with nothing appended to it
   */
  | "fatal-close-or-cut"
  /** a correct answer (masked in a masked session); the session goes on */
  | "ok";

interface Case {
  id: number;
  family: string;
  /** `select …` or `copy …` */
  copy: boolean;
  /** the upstream's bytes, written one piece at a time (with a pause when `paced`) */
  chunks: Buffer[];
  paced: boolean;
  /** after writing: keep the connection open (the gateway must end it), or close it */
  after: "stay" | "close";
  /** in a masked session */
  outcome: Outcome;
  /** in an unmasked one; null: not run there (it passes row contents through unread) */
  plain: Outcome | null;
  /** ok: the rows the upstream sent */
  rows?: (string | null)[][];
  /** a complete answer, or the upstream's own error, reaches the client before the misbehaviour */
  upstreamFirst?: boolean;
}

const BACKEND_TYPES = new Set([..."RKSZTDCIENA123ntsGHWdcvV"].map((c) => c.charCodeAt(0)));
const UNKNOWN_TYPES = Array.from({ length: 256 }, (_, i) => i).filter((t) => !BACKEND_TYPES.has(t));

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

function int(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** bytes cut into pieces of 1..max bytes */
function split(bytes: Buffer, rand: () => number, max: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = int(rand, 1, max);
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** the messages either as one write, or cut at random places */
function chunked(messages: Buffer[], rand: () => number): Buffer[] {
  const all = Buffer.concat(messages);
  const r = rand();
  if (r < 0.4) return [all];
  if (r < 0.7) return messages;
  return split(all, rand, int(rand, 3, 64));
}

function masked(values: (string | null)[][]): (string | null)[][] {
  return values.map((row) => row.map((v) => v?.replaceAll(/\S+@\S+/g, "[REDACTED]") ?? null));
}

const INTS: Column[] = [{ name: "a", typeOid: INT4 }, { name: "b", typeOid: INT4 }];

const families: Record<string, { count: number; make(rand: () => number): Omit<Case, "id" | "family"> }> = {
  "unknown message type": {
    count: 70,
    make(rand) {
      const valid = answer(rows(int(rand, 0, 4), rand)).slice(0, -2);
      const prefix = valid.slice(0, int(rand, 0, valid.length));
      const bad = msg(pick(rand, UNKNOWN_TYPES), Buffer.concat([cstr(CANARY), Buffer.from(Array.from({ length: int(rand, 0, 40) }, () => int(rand, 0, 255)))]));
      return { copy: false, chunks: chunked([...prefix, bad, ...valid.slice(prefix.length)], rand), paced: false, after: "stay", outcome: "fatal", plain: "fatal-close-or-cut" };
    },
  },
  "length below 4, negative, or over the limit": {
    count: 90,
    make(rand) {
      const valid = answer(rows(int(rand, 0, 3), rand)).slice(0, -2);
      const prefix = valid.slice(0, int(rand, 0, valid.length));
      const length = pick(rand, [0, 1, 2, 3, -1, -4, -(2 ** 31), -int(rand, 5, 1e9), 2 ** 31 - 1, 300 * 1024 * 1024, 1100 * 1024 * 1024, int(rand, 257 * 1024 * 1024, 2 ** 31 - 1)]);
      const type = pick(rand, ["D", "T", "C", "Z", "E", "N", "S", "d", "1", "n"]);
      const bad = msg(type, Buffer.concat([int16(3), cstr(CANARY), Buffer.alloc(int(rand, 0, 20))]), length);
      // unmasked sessions stream DataRow and CopyData up to 1 GiB: a length below that is waited for
      const streamedThere = (type === "D" || type === "d") && length >= 4 && length < 1024 * 1024 * 1024;
      return { copy: false, chunks: chunked([...prefix, bad], rand), paced: false, after: "stay", outcome: "fatal", plain: streamedThere ? null : "fatal-close-or-cut" };
    },
  },
  "truncated, then closed": {
    count: 90,
    make(rand) {
      const whole = Buffer.concat(answer(rows(int(rand, 1, 5), rand)));
      // never the whole answer: at least its last byte is missing
      const cut = int(rand, 1, whole.length - 1);
      const bytes = whole.subarray(0, cut);
      return { copy: false, chunks: rand() < 0.5 ? [bytes] : split(bytes, rand, int(rand, 1, 40)), paced: rand() < 0.3, after: "close", outcome: "fatal-or-close", plain: "fatal-close-or-cut" };
    },
  },
  "truncated large message, then closed": {
    count: 15,
    make(rand) {
      // a DataRow that says it is long (up to 8 MiB) and stops early, the canary in what came
      const declared = int(rand, 64 * 1024, 8 * 1024 * 1024);
      const head = Buffer.concat([int16(3), int32(1), Buffer.from("1"), int32(declared - 20), Buffer.from(CANARY)]);
      const bad = msg("D", head, declared);
      return { copy: false, chunks: [rowDescription(COLUMNS), bad], paced: true, after: "close", outcome: "fatal", plain: "fatal-close-or-cut" };
    },
  },
  "DataRow disagrees with its RowDescription": {
    count: 110,
    make(rand) {
      const good = rows(int(rand, 0, 3), rand);
      const variant = int(rand, 0, 6);
      let bad: Buffer;
      switch (variant) {
        case 0: // more fields than columns
          bad = dataRow(["9", CANARY, "note", CANARY].concat(rand() < 0.5 ? [CANARY] : []));
          break;
        case 1: // fewer fields than columns
          bad = dataRow(["9", CANARY].slice(2 - int(rand, 1, 2)));
          break;
        case 2: // the field count says 3, the fields that follow are 2 (the message ends early)
          bad = dataRow(["9", CANARY], 3);
          break;
        case 3: { // a field length that runs past the message
          const body = Buffer.concat([int16(3), int32(1), Buffer.from("9"), int32(Buffer.byteLength(CANARY) + int(rand, 1, 5000)), Buffer.from(CANARY), int32(-1)]);
          bad = msg("D", body);
          break;
        }
        case 4: { // a negative field length other than -1 (NULL)
          const body = Buffer.concat([int16(3), int32(1), Buffer.from("9"), int32(pick(rand, [-2, -5, -(2 ** 31)])), Buffer.from(CANARY), int32(-1)]);
          bad = msg("D", body);
          break;
        }
        case 5: { // bytes after the last field
          bad = msg("D", Buffer.concat([dataRow(["9", CANARY, null]).subarray(5), Buffer.from(CANARY)]));
          break;
        }
        default: { // a field count of 65535 / -1
          bad = msg("D", Buffer.concat([int16(-1), int32(Buffer.byteLength(CANARY)), Buffer.from(CANARY)]));
        }
      }
      const after = rand() < 0.5 ? good.map((v) => dataRow(v)) : [];
      const messages = [rowDescription(COLUMNS), ...good.map((v) => dataRow(v)), bad, ...after, commandComplete("SELECT 9"), readyForQuery()];
      return { copy: false, chunks: chunked(messages, rand), paced: rand() < 0.2, after: "stay", outcome: "fatal", plain: null };
    },
  },
  "DataRow outside a described result": {
    count: 40,
    make(rand) {
      const row = dataRow(["1", CANARY, `to ${CANARY}`]);
      const variant = int(rand, 0, 3);
      const messages = variant === 0
        ? [row, commandComplete("SELECT 1"), readyForQuery()] // before any RowDescription
        : variant === 1
          ? [...answer(rows(1, rand)).slice(0, -1), row, readyForQuery()] // after CommandComplete
          : variant === 2
            ? [rowDescription(COLUMNS), errorResponse({ S: "ERROR", V: "ERROR", C: "22000", M: "boom" }), row, readyForQuery()] // after an error
            : [...answer(rows(1, rand)), row]; // after ReadyForQuery, unasked
      return { copy: false, chunks: chunked(messages, rand), paced: rand() < 0.3, after: "stay", outcome: "fatal", plain: null, upstreamFirst: variant >= 2 };
    },
  },
  "ReadyForQuery with an invalid status": {
    count: 30,
    make(rand) {
      const status = pick(rand, [Buffer.from([pick(rand, [0, 0x41, 0x58, 0x69, 0xff, int(rand, 0x4a, 0x53)])]), Buffer.alloc(0), Buffer.from("II"), Buffer.from("T\0\0")]);
      const messages = [...answer(rows(int(rand, 0, 2), rand)).slice(0, -1), msg("Z", status)];
      return { copy: false, chunks: chunked(messages, rand), paced: false, after: "stay", outcome: "fatal", plain: "fatal-close-or-cut" };
    },
  },
  "ErrorResponse without a terminator": {
    count: 30,
    make(rand) {
      const variant = int(rand, 0, 2);
      const body = variant === 0
        ? errorFields({ S: "ERROR", C: "42000", M: "bad" }).subarray(0, -1) // no closing NUL
        : variant === 1
          ? Buffer.from("SERROR\0C42000\0Mbad") // the last field unterminated
          : Buffer.alloc(0); // nothing at all
      const messages = [...answer(rows(int(rand, 0, 2), rand)).slice(0, int(rand, 0, 2)), msg("E", body), readyForQuery()];
      return { copy: false, chunks: chunked(messages, rand), paced: false, after: "stay", outcome: "fatal", plain: "fatal-close-or-cut" };
    },
  },
  "authentication or BackendKeyData mid-session": {
    count: 30,
    make(rand) {
      const bad = pick(rand, [authentication(0), authentication(3), authentication(5, Buffer.from([1, 2, 3, 4])), authentication(10, Buffer.concat([cstr("SCRAM-SHA-256"), Buffer.from([0])])), authentication(12, Buffer.from("v=abc")), msg("K", Buffer.concat([int32(1), int32(2)]))]);
      const valid = answer(rows(int(rand, 0, 2), rand));
      const at = int(rand, 0, valid.length);
      return { copy: false, chunks: chunked([...valid.slice(0, at), bad, ...valid.slice(at)], rand), paced: false, after: "stay", outcome: "fatal", plain: "fatal-close-or-cut" };
    },
  },
  "CopyData or CopyDone out of sequence": {
    count: 45,
    make(rand) {
      const line = `1\t${CANARY}\n`;
      const variant = int(rand, 0, 4);
      const copy = variant <= 2;
      const messages = variant === 0
        ? [copyData(line), copyDone(), commandComplete("COPY 1"), readyForQuery()] // CopyData without CopyOutResponse
        : variant === 1
          ? [copyDone(), commandComplete("COPY 0"), readyForQuery()] // CopyDone without CopyOutResponse
          : variant === 2
            ? [copyOutResponse(2), copyData(line), copyDone(), copyData(line), commandComplete("COPY 2"), readyForQuery()] // CopyData after CopyDone
            : variant === 3
              ? [rowDescription(COLUMNS), copyData(line), commandComplete("SELECT 0"), readyForQuery()] // CopyData in a row result
              : [...answer(rows(1, rand)).slice(0, -1), copyDone(), readyForQuery()]; // CopyDone after a row result
      // unmasked sessions stream CopyData unread; CopyDone out of place ends them too
      return { copy, chunks: chunked(messages, rand), paced: false, after: "stay", outcome: "fatal", plain: variant === 1 || variant === 4 ? "fatal-close-or-cut" : null };
    },
  },
  "bytes after the connection should have ended": {
    count: 40,
    make(rand) {
      const fatal = errorResponse({ S: "FATAL", V: "FATAL", C: "57P01", M: "terminating connection due to administrator command" });
      const variant = int(rand, 0, 2);
      const messages = variant === 0
        ? [fatal, dataRow(["1", CANARY, CANARY])] // rows after a FATAL
        : variant === 1
          ? [...answer(rows(1, rand)).slice(0, 2), fatal, rowDescription(COLUMNS), dataRow(["1", CANARY, CANARY]), readyForQuery()]
          : [...answer(rows(1, rand)), Buffer.from(Array.from({ length: int(rand, 1, 12) }, () => int(rand, 0, 255)))]; // junk after the answer
      // (junk shorter than a message header after an answer is waited on like any cut message, so the upstream closes there)
      if (variant === 2) return { copy: false, chunks: chunked(messages, rand), paced: false, after: "close", outcome: "fatal-or-close", plain: "fatal-close-or-cut", upstreamFirst: true };
      return { copy: false, chunks: chunked(messages, rand), paced: false, after: rand() < 0.5 ? "close" : "stay", outcome: "fatal", plain: "fatal-close-or-cut", upstreamFirst: true };
    },
  },
  "valid, in tiny TCP chunks": {
    count: 40,
    make(rand) {
      const values = rows(int(rand, 1, 4), rand);
      const messages = answer(values);
      messages.splice(1, 0, notice("hello"), parameterStatus("application_name", "x"));
      return { copy: false, chunks: split(Buffer.concat(messages), rand, int(rand, 1, 7)), paced: true, after: "stay", outcome: "ok", plain: "ok", rows: values };
    },
  },
  "valid": {
    count: 40,
    make(rand) {
      const values = rows(int(rand, 0, 30), rand);
      return { copy: false, chunks: chunked(answer(values), rand), paced: rand() < 0.3, after: "stay", outcome: "ok", plain: "ok", rows: values };
    },
  },
  "valid, nothing to mask in the result": {
    count: 20,
    make(rand) {
      const values = Array.from({ length: int(rand, 0, 20) }, (_, i) => [String(i), rand() < 0.2 ? null : String(int(rand, -1e6, 1e6))]);
      const messages = [rowDescription(INTS), ...values.map((v) => dataRow(v)), commandComplete(`SELECT ${values.length}`), readyForQuery()];
      return { copy: false, chunks: chunked(messages, rand), paced: rand() < 0.3, after: "stay", outcome: "ok", plain: "ok", rows: values };
    },
  },
  "DataRow disagrees with a RowDescription of nothing to mask": {
    count: 50,
    make(rand) {
      // no column a detector reads: the masked session checks these rows without changing them
      const columns = INTS.slice(0, int(rand, 0, 2));
      const variant = int(rand, 0, 3);
      const filler = columns.map((_, i) => String(i));
      const bad = variant === 0
        ? dataRow([...filler, CANARY]) // one field more than described
        : variant === 1
          ? dataRow([...filler, CANARY], columns.length) // a field count that leaves bytes after the last field
          : variant === 2
            ? msg("D", Buffer.concat([int16(columns.length + 1), ...filler.map((v) => Buffer.concat([int32(1), Buffer.from(v)])), int32(Buffer.byteLength(CANARY))])) // cut in a field
            : msg("D", Buffer.concat([int16(Math.max(columns.length, 1)), int32(Buffer.byteLength(CANARY) + int(rand, 1, 999)), Buffer.from(CANARY)])); // a length past the end
      const good = Array.from({ length: int(rand, 0, 3) }, () => dataRow(filler));
      const messages = [rowDescription(columns), ...good, bad, ...good, commandComplete("SELECT 1"), readyForQuery()];
      return { copy: false, chunks: chunked(messages, rand), paced: rand() < 0.2, after: "stay", outcome: "fatal", plain: null };
    },
  },
  "valid COPY": {
    count: 20,
    make(rand) {
      const values = rows(int(rand, 1, 5), rand);
      const lines = values.map((v) => `${v.map((x) => x ?? "\\N").join("\t")}\n`);
      const messages = [copyOutResponse(3), ...lines.map(copyData), copyDone(), commandComplete(`COPY ${values.length}`), readyForQuery()];
      return { copy: true, chunks: chunked(messages, rand), paced: rand() < 0.3, after: "stay", outcome: "ok", plain: "ok", rows: values };
    },
  },
};

function makeCases(seed: number): Case[] {
  const rand = seededRandom(seed);
  const cases: Case[] = [];
  for (const [family, { count, make }] of Object.entries(families)) {
    for (let i = 0; i < count; i++) cases.push({ id: cases.length + 1, family, ...make(rand) });
  }
  // interleave the families so that the well-behaved ones run among the others
  for (let i = cases.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [cases[i], cases[j]] = [cases[j]!, cases[i]!];
  }
  return cases;
}

// ---------------------------------------------------------------- the fake upstream

const QUERY_ID = /where id = (\d+)/;

/** id 0 is the well-behaved answer; others are looked up in `scripts` */
function startFake(scripts: Map<number, Case>): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let buffered = Buffer.alloc(0);
    let started = false;
    let busy = Promise.resolve();
    socket.on("data", (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      if (!started) {
        if (buffered.length < 4 || buffered.length < buffered.readInt32BE(0)) return;
        buffered = buffered.subarray(buffered.readInt32BE(0));
        started = true;
        socket.write(Buffer.concat([
          authentication(0), parameterStatus("server_version", "16.0"), parameterStatus("client_encoding", "UTF8"),
          parameterStatus("standard_conforming_strings", "on"), parameterStatus("DateStyle", "ISO, MDY"), parameterStatus("integer_datetimes", "on"),
          msg("K", Buffer.concat([int32(4242), int32(1234)])), readyForQuery(),
        ]));
      }
      while (buffered.length >= 5 && buffered.length >= 1 + buffered.readInt32BE(1)) {
        const type = String.fromCharCode(buffered[0]!);
        const frame = buffered.subarray(0, 1 + buffered.readInt32BE(1));
        buffered = buffered.subarray(frame.length);
        if (type === "X") return socket.end();
        if (type !== "Q") continue;
        const id = Number(QUERY_ID.exec(frame.toString("utf8", 5))?.[1] ?? "0");
        const script = scripts.get(id);
        busy = busy.then(() => (script === undefined ? wellBehaved(socket) : play(socket, script)));
      }
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as { port: number }).port, sockets })));
}

function wellBehaved(socket: Socket): void {
  if (!socket.destroyed) socket.write(Buffer.concat(answer([["1", CANARY, "plain"], ["2", "nobody", null]])));
}

async function play(socket: Socket, script: Case): Promise<void> {
  for (const chunk of script.chunks) {
    if (socket.destroyed) return;
    socket.write(chunk);
    if (script.paced) await new Promise((r) => setTimeout(r, 1));
  }
  if (script.after === "close" && !socket.destroyed) socket.end();
}

// ---------------------------------------------------------------- a raw client that keeps every byte

interface Received {
  /** everything after the startup's ReadyForQuery */
  bytes: Buffer;
  closed: boolean;
  timedOut: boolean;
}

function startup(): Buffer {
  const params = Buffer.concat([cstr("user"), cstr("ci"), cstr("database"), cstr("fake"), Buffer.from([0])]);
  return Buffer.concat([int32(8 + params.length), int32(196608), params]);
}

const READY = Buffer.from([0x5a, 0, 0, 0, 5]);
const CLEARTEXT = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]);

/** runs `query`, then (when the session is still open after an answer) `select … where id = 0`, then Terminate */
function rawSession(port: number, token: string, query: string, expectAnswer: boolean): Promise<Received> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let seen = Buffer.alloc(0);
    let sentToken = false;
    let phase: "auth" | "query" | "second" = "auth";
    let after = Buffer.alloc(0);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, CASE_TIMEOUT_MS);
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ bytes: after, closed: !timedOut, timedOut });
    });
    socket.on("connect", () => socket.write(startup()));
    socket.on("data", (data: Buffer) => {
      if (phase === "auth") {
        seen = Buffer.concat([seen, data]);
        if (!sentToken && seen.includes(CLEARTEXT)) {
          socket.write(msg("p", cstr(token)));
          sentToken = true;
        }
        const ready = seen.indexOf(READY);
        if (ready >= 0) {
          phase = "query";
          after = seen.subarray(ready + 6);
          socket.write(msg("Q", cstr(query)));
        }
        return;
      }
      after = Buffer.concat([after, data]);
      if (!expectAnswer) return;
      // a well-behaved answer ends with ReadyForQuery: ask the second query, then leave
      const messages = parse(after);
      const readies = messages.list.filter((m) => m.type === "Z").length;
      if (phase === "query" && readies === 1) {
        phase = "second";
        socket.write(msg("Q", cstr("select email from people where id = 0")));
      } else if (phase === "second" && readies === 2) {
        socket.end(msg("X", Buffer.alloc(0)));
      }
    });
  });
}

interface Parsed {
  list: { type: string; body: Buffer }[];
  /** bytes after the last whole message */
  rest: Buffer;
}

function parse(bytes: Buffer): Parsed {
  const list: Parsed["list"] = [];
  let at = 0;
  while (bytes.length - at >= 5) {
    const length = bytes.readInt32BE(at + 1);
    if (length < 4 || bytes.length - at < 1 + length) break;
    list.push({ type: String.fromCharCode(bytes[at]!), body: bytes.subarray(at + 5, at + 1 + length) });
    at += 1 + length;
  }
  return { list, rest: bytes.subarray(at) };
}

function fields(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of body.toString("utf8").split("\0")) if (part.length > 0) out[part[0]!] = part.slice(1);
  return out;
}

function decodeRow(body: Buffer): (string | null)[] {
  const n = body.readInt16BE(0);
  const values: (string | null)[] = [];
  let at = 2;
  for (let i = 0; i < n; i++) {
    const len = body.readInt32BE(at);
    at += 4;
    values.push(len < 0 ? null : body.toString("utf8", at, at + len));
    if (len > 0) at += len;
  }
  return values;
}

/** what is wrong with what the client received in a masked session (or an unmasked one), or [] */
function problems(c: Case, got: Received, maskedSession: boolean): string[] {
  const out: string[] = [];
  const outcome = maskedSession ? c.outcome : c.plain!;
  if (got.timedOut) out.push("the client waited in vain: no answer, no close");
  if (maskedSession && got.bytes.includes(CANARY_MARK)) out.push("the canary reached the client in clear");
  const { list, rest } = parse(got.bytes);
  if (rest.length > 0 && !(outcome === "fatal-close-or-cut" && got.closed && !rest.includes(Buffer.from("from the upstream")))) {
    out.push(`the client got a partial or garbled message: ${rest.subarray(0, 16).toString("hex")}`);
  }
  for (const m of list) if (!BACKEND_TYPES.has(m.type.charCodeAt(0))) out.push(`the client got a message of type 0x${m.type.charCodeAt(0).toString(16)}`);
  const errors = list.filter((m) => m.type === "E").map((m) => fields(m.body));
  if (errors.some((e) => e.C === "XX000")) out.push("internal gateway error");
  const last = list.at(-1);
  const lastError = last?.type === "E" ? fields(last.body) : null;
  const gatewayFatal = lastError !== null && lastError.S === "FATAL" && lastError.C === "08P01" && /upstream/.test(lastError.M ?? "");
  if (outcome === "fatal" && !gatewayFatal) out.push(`expected the gateway's FATAL 08P01, the last message was ${last === undefined ? "none" : `${last.type} ${JSON.stringify(lastError ?? {})}`}`);
  if (outcome !== "fatal" && outcome !== "ok" && lastError !== null && !gatewayFatal && lastError.C !== "57P01") out.push(`unexpected error ${JSON.stringify(lastError)}`);
  if (outcome !== "ok" && !got.closed) out.push("the session was not closed");
  if (outcome === "ok") {
    if (errors.length > 0) out.push(`errors in a valid exchange: ${JSON.stringify(errors)}`);
    const readies = list.filter((m) => m.type === "Z").length;
    if (readies !== 2) out.push(`expected two answers, got ${readies} ReadyForQuery`);
    const first = list.slice(0, list.findIndex((m) => m.type === "Z"));
    const values = c.copy
      ? first.filter((m) => m.type === "d").map((m) => m.body.toString("utf8").replace(/\n$/, "").split("\t").map((v) => (v === "\\N" ? null : v)))
      : first.filter((m) => m.type === "D").map((m) => decodeRow(m.body));
    const expected = maskedSession ? masked(c.rows!) : c.rows;
    if (JSON.stringify(values) !== JSON.stringify(expected)) out.push(`rows ${JSON.stringify(values)} instead of ${JSON.stringify(expected)}`);
  }
  return out;
}

// ---------------------------------------------------------------- the run

let gw: Gateway;
let fake: Awaited<ReturnType<typeof startFake>>;
let direct: pg.Client;
const cases = makeCases(SEED);

beforeAll(async () => {
  await freshDatabase(DB);
  direct = new pg.Client({ ...PG, database: DB });
  await direct.connect();
  await direct.query(`create table people (id int, email text); insert into people select g, 'p' || g || '@example.com' from generate_series(1, 20) g`);
  fake = await startFake(new Map(cases.map((c) => [c.id, c])));
  gw = await startGateway({
    policy,
    targets: { fake: { host: "127.0.0.1", port: fake.port, user: "postgres", database: "fake" }, real: { ...PG, database: DB } },
  });
});

afterAll(async () => {
  await direct?.end();
  await gw?.close();
  for (const socket of fake?.sockets ?? []) socket.destroy();
  await new Promise((r) => (fake === undefined ? r(undefined) : fake.server.close(r)));
});

function client(database: string, token: string): pg.Client {
  const c = new pg.Client({ host: "127.0.0.1", port: gw.proxy.port, user: "ci", database, password: token, connectionTimeoutMillis: CASE_TIMEOUT_MS });
  c.on("error", () => undefined);
  return c;
}

/** a query that must settle in time: its rows, or its error */
async function settle(c: pg.Client, text: string): Promise<{ rows?: Record<string, unknown>[]; error?: Error & { code?: string } }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer to "${text}" within ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS);
  });
  try {
    return { rows: (await Promise.race([c.query(text), timeout])).rows };
  } catch (err) {
    if ((err as Error).message.startsWith("no answer")) throw err;
    return { error: err as Error & { code?: string } };
  } finally {
    clearTimeout(timer);
  }
}

/** each case in its own raw session (8 at a time); what went wrong, by family and kind, then the first few in full */
async function runCases(token: string, subset: Case[], maskedSession: boolean): Promise<{ summary: Record<string, number>; first: string[] }> {
  const failures: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < subset.length) {
        const c = subset[next++]!;
        const query = c.copy ? `copy (select email from people where id = ${c.id}) to stdout` : `select email from people where id = ${c.id}`;
        const outcome = maskedSession ? c.outcome : c.plain;
        const got = await rawSession(gw.proxy.port, token, query, outcome === "ok");
        for (const p of problems(c, got, maskedSession)) failures.push(`case ${c.id} (${c.family}): ${p}`);
      }
    }),
  );
  const summary: Record<string, number> = {};
  for (const f of failures) {
    const key = f.replace(/^case \d+ /, "").replace(/0x[0-9a-f]+|-?\d+/g, "N").slice(0, 200);
    summary[key] = (summary[key] ?? 0) + 1;
  }
  return { summary, first: failures.slice(0, 10) };
}

it(`${cases.length} scripted upstream answers to masked sessions (seed ${SEED}): FATAL or close, nothing garbled, the canary never in clear, other sessions unaffected`, { timeout: 300_000 }, async () => {
  expect(cases.length).toBeGreaterThanOrEqual(600);
  const token = await gw.token("bot", "1h");
  // two sessions that must not notice anything: one on the real PostgreSQL, one on the fake's well-behaved answer
  const real = client("real", token);
  const calm = client("fake", token);
  await real.connect();
  await calm.connect();
  let stop = false;
  let realQueries = 0;
  let calmQueries = 0;
  const steady = (async () => {
    while (!stop) {
      const r = await settle(real, "select id, email from people where id <= 3 order by id");
      expect(r.error).toBeUndefined();
      expect(r.rows).toEqual([{ id: 1, email: "[REDACTED]" }, { id: 2, email: "[REDACTED]" }, { id: 3, email: "[REDACTED]" }]);
      realQueries += 1;
      const f = await settle(calm, "select email from people where id = 0");
      expect(f.error).toBeUndefined();
      expect(f.rows).toEqual([{ id: 1, email: "[REDACTED]", note: "plain" }, { id: 2, email: "nobody", note: null }]);
      calmQueries += 1;
    }
  })();
  const result = await runCases(token, cases, true);
  stop = true;
  await steady;
  expect(result).toEqual({ summary: {}, first: [] });
  expect(realQueries).toBeGreaterThan(10);
  expect(calmQueries).toBeGreaterThan(10);
  await real.end();
  await calm.end();
});

it("the same answers to unmasked sessions: every header checked, FATAL, a clean close, or a close inside a streamed message", { timeout: 300_000 }, async () => {
  const subset = cases.filter((c) => c.plain !== null);
  expect(subset.length).toBeGreaterThan(400);
  expect(await runCases(await gw.token("plain", "1h"), subset, false)).toEqual({ summary: {}, first: [] });
});

it("a real pg client gets the upstream's invalid message as an error, in time, with nothing unmasked", { timeout: 120_000 }, async () => {
  const token = await gw.token("bot", "1h");
  const rand = seededRandom(SEED + 1);
  const picked = cases.filter((c) => c.outcome !== "ok" && !c.copy && !c.upstreamFirst).filter(() => rand() < 0.25);
  expect(picked.length).toBeGreaterThan(80);
  for (const c of picked) {
    const pgClient = client("fake", token);
    await pgClient.connect();
    const r = await settle(pgClient, `select email from people where id = ${c.id}`);
    expect(JSON.stringify(r.rows ?? [])).not.toContain("c4n4ry");
    if (c.outcome === "fatal") {
      expect({ id: c.id, code: r.error?.code, upstream: /upstream/.test(r.error?.message ?? "") }).toEqual({ id: c.id, code: "08P01", upstream: true });
    } else {
      expect(r.error, `case ${c.id}`).toBeDefined();
    }
    await pgClient.end().catch(() => undefined);
  }
  // and the valid tiny-chunk answers come out right through pg's own parser
  for (const c of cases.filter((x) => x.family === "valid, in tiny TCP chunks").slice(0, 10)) {
    const pgClient = client("fake", token);
    await pgClient.connect();
    const r = await settle(pgClient, `select email from people where id = ${c.id}`);
    expect(r.error).toBeUndefined();
    expect(r.rows!.map((row) => [String(row.id), row.email, row.note])).toEqual(masked(c.rows!));
    await pgClient.end();
  }
  // the gateway still takes new sessions
  const after = client("real", token);
  await after.connect();
  expect((await after.query("select count(*)::int as n from people")).rows[0]).toEqual({ n: 20 });
  await after.end();
});

// What one audit record keeps of what a client chose is bounded (runtime/audit/bounds.ts): a
// statement's text its first 64 KiB of UTF-8 (4 KiB when the gateway refused to run it) plus the
// whole text's length and SHA-256, reasons and errors their first 4 KiB. Every sink gets the same record (the store's chain, the JSON-lines
// file), replay says where a text was cut, and an approval request's audit entry is cut the same
// way while the request keeps the whole text.

import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApprovalService } from "../runtime/approvals/index.js";
import { clipMessage, cutText, MAX_AUDIT_MESSAGE_BYTES, MAX_AUDIT_TEXT_BYTES, MAX_REFUSED_TEXT_BYTES } from "../runtime/audit/bounds.js";
import { writeData } from "../runtime/audit/entry-json.js";
import {
  getSession, inProcessWriter, openJsonlAuditFile, replayTranscript, StoreAuditLog, verifyAuditLog,
  type AuditEvent, type AuditSink, type SessionEndedRecord, type StatementRecord,
} from "../runtime/audit/index.js";
import { teeAuditSink } from "../runtime/audit/tee.js";
import { createAuditPort } from "../runtime/gateway/audit-port.js";
import { createLogger } from "../runtime/log.js";
import { openStore, type Store } from "../runtime/store/index.js";

const logger = createLogger({ level: "silent" });
const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");
const identity = { issuer: "https://issuer.test", subject: "bot-1", claims: { iss: "https://issuer.test", sub: "bot-1" } };

/** a sink that keeps what it is given */
function recordingSink(): AuditSink & { statements: StatementRecord[]; ended: SessionEndedRecord[] } {
  const statements: StatementRecord[] = [];
  const ended: SessionEndedRecord[] = [];
  return {
    statements, ended,
    sessionStarted: async () => undefined,
    statement: async (record) => void statements.push(record),
    sessionEnded: async (record) => void ended.push(record),
    close: async () => undefined,
  };
}

const event = (text: string, extra: { reason?: string; error?: string } = {}) => ({
  sessionId: "s1", text, effect: "deny" as const, rules: [], reason: extra.reason ?? "SQL does not parse", rows: 0, bytes: 0, durationMs: 0,
  ...(extra.error !== undefined && { error: extra.error }),
});

describe("cutText and clipMessage", () => {
  it("keep a text that fits whole, and cut a longer one at a character boundary with its length and digest", () => {
    expect(cutText("select 1")).toBeUndefined();
    expect(cutText("x".repeat(MAX_AUDIT_TEXT_BYTES))).toBeUndefined();
    expect(cutText("é".repeat(MAX_AUDIT_TEXT_BYTES / 2))).toBeUndefined(); // exactly the limit in UTF-8
    const long = `${"x".repeat(MAX_AUDIT_TEXT_BYTES)}y`;
    expect(cutText(long)).toEqual({ text: "x".repeat(MAX_AUDIT_TEXT_BYTES), bytes: MAX_AUDIT_TEXT_BYTES + 1, sha256: sha256(long) });
    for (const unit of ["é", "€", "😀", "a€😀"]) {
      const text = unit.repeat(MAX_AUDIT_TEXT_BYTES); // 1 to 4 bytes a character: never a whole number of them at the limit
      const cut = cutText(text)!;
      expect(Buffer.byteLength(cut.text)).toBeLessThanOrEqual(MAX_AUDIT_TEXT_BYTES);
      expect(Buffer.byteLength(cut.text)).toBeGreaterThan(MAX_AUDIT_TEXT_BYTES - 4);
      expect(text.startsWith(cut.text)).toBe(true);
      expect(cut.text).not.toContain("\ufffd");
      expect(cut).toMatchObject({ bytes: Buffer.byteLength(text), sha256: sha256(text) });
    }
    expect(clipMessage("statement denied")).toBe("statement denied");
    const error = `unterminated quoted string at or near "'${"\u0001".repeat(100_000)}"`;
    const clipped = clipMessage(error);
    expect(clipped).toBe(`${error.slice(0, MAX_AUDIT_MESSAGE_BYTES)}… (${Buffer.byteLength(error)} bytes, cut)`);
  });
});

describe("the audit port", () => {
  it("records a huge statement's first 64 KiB, its length and digest, and bounded reasons and errors", () => {
    const sink = recordingSink();
    const port = createAuditPort(sink, logger);
    const text = "\u0001".repeat(3_000_000); // the JSON form of each is `\u0001`: six times the text
    port.statement(event(text, { reason: `SQL does not parse: ${"é".repeat(50_000)}`, error: "€".repeat(50_000) }));
    port.statement(event("select 1"));
    port.sessionEnded({ sessionId: "s1", endedAt: new Date(), rows: 0, bytes: 0, error: "x".repeat(1_000_000) });
    const [huge, small] = sink.statements;
    expect(huge).toMatchObject({ text: "\u0001".repeat(MAX_AUDIT_TEXT_BYTES), textBytes: 3_000_000, textSha256: sha256(text) });
    expect(Buffer.byteLength(huge!.reason!)).toBeLessThan(MAX_AUDIT_MESSAGE_BYTES + 40);
    expect(Buffer.byteLength(huge!.error!)).toBeLessThan(MAX_AUDIT_MESSAGE_BYTES + 40);
    expect(huge!.error).toMatch(/^€+… \(150000 bytes, cut\)$/);
    // the record as the store writes it: bounded whatever the client sent
    expect(writeData(huge!, "session").length).toBeLessThan(6 * MAX_AUDIT_TEXT_BYTES + 3 * 6 * MAX_AUDIT_MESSAGE_BYTES);
    // a statement that fits is recorded as it was, in the record's usual shape
    expect(small).toMatchObject({ text: "select 1", reason: "SQL does not parse" });
    expect(Object.keys(small!)).not.toContain("textBytes");
    expect(Object.keys(small!)).not.toContain("textSha256");
    expect(sink.ended[0]!.error).toMatch(/^x{4096}… \(1000000 bytes, cut\)$/);
  });

  it("records a refused statement's first 4 KiB with its length and digest; one that ran keeps 64 KiB", () => {
    const sink = recordingSink();
    const port = createAuditPort(sink, logger);
    const text = `delete from orders where note = '${"€".repeat(30_000)}'`;
    port.statement({ ...event(text), refused: true });
    port.statement({ ...event("select 1"), refused: true });
    port.statement({ ...event(text), effect: "allow" });
    const [refused, small, ran] = sink.statements;
    const cut = cutText(text, MAX_REFUSED_TEXT_BYTES)!;
    expect(Buffer.byteLength(cut.text)).toBeGreaterThan(MAX_REFUSED_TEXT_BYTES - 3);
    expect(refused).toMatchObject({ text: cut.text, textBytes: Buffer.byteLength(text), textSha256: sha256(text), decision: "deny" });
    expect(small).toMatchObject({ text: "select 1" });
    expect(Object.keys(small!)).not.toContain("textBytes");
    expect(ran).toMatchObject({ text: cutText(text)!.text, textBytes: Buffer.byteLength(text), textSha256: sha256(text), decision: "allow" });
    expect(Buffer.byteLength(ran!.text)).toBeGreaterThan(MAX_AUDIT_TEXT_BYTES - 3);
  });

  it("gives the store's chain and the JSON-lines file the same cut record, and replay says it was cut", async () => {
    const store = await openStore({ kind: "memory" }, logger);
    const dir = await mkdtemp(join(tmpdir(), "hoopgate-audit-bounds-"));
    try {
      const log = new StoreAuditLog(inProcessWriter(store));
      const file = await openJsonlAuditFile(join(dir, "audit.jsonl"));
      const sink = teeAuditSink([log, file]);
      const port = createAuditPort(sink, logger);
      const text = `select '${"é\t\\".repeat(40_000)}'`;
      port.sessionStarted({ sessionId: "s1", identity, connection: "orders", client: "127.0.0.1:5000", startedAt: new Date() });
      port.statement(event(text));
      port.sessionEnded({ sessionId: "s1", endedAt: new Date(), rows: 0, bytes: 0 });
      await sink.close();
      const lines = (await readFile(join(dir, "audit.jsonl"), "utf8")).trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      const cut = cutText(text)!;
      expect(lines[1]).toMatchObject({ type: "statement", text: cut.text, textBytes: Buffer.byteLength(text), textSha256: sha256(text) });
      expect(await verifyAuditLog(store)).toMatchObject({ ok: true, entries: 3 });
      const found = (await getSession(store, "s1"))!;
      expect(found.entries[1]!.data).toMatchObject({ text: cut.text, textBytes: Buffer.byteLength(text), textSha256: sha256(text) });
      expect(replayTranscript(found.session, found.entries))
        .toContain(`${cut.text}\n   … cut: the record keeps the first ${Buffer.byteLength(cut.text)} of ${Buffer.byteLength(text)} bytes (sha256 ${sha256(text)})\n`);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("an approval request's audit entry", () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({ kind: "memory" }, logger);
  });
  afterAll(async () => {
    await store?.close();
  });

  it("keeps the statement's first 64 KiB with its length and digest; the request keeps the whole text", async () => {
    const events: AuditEvent[] = [];
    const approvals = await ApprovalService.start({
      store, logger, audit: { append: async (e) => void events.push(e) },
      verifyToken: () => Promise.reject(new Error("no approvers here")), groupsOf: () => [], approvalUrl: (id) => `https://console.test/${id}`,
    });
    try {
      const text = `delete from orders where note = '${"\u0001".repeat(200_000)}'`;
      const ticket = await approvals.hold({
        sessionId: "s1", identity, connection: "orders", text,
        decision: { effect: "review", reason: "deletes need a second pair of eyes", rules: ["r#1"], approvers: ["dba"], statements: [] },
      });
      const requested = events.find((e) => e.type === "approval_requested")!;
      expect(requested.data).toMatchObject({ statement: cutText(text)!.text, statementBytes: Buffer.byteLength(text), statementSha256: sha256(text) });
      expect(await approvals.get(ticket.id)).toMatchObject({ statement: text, statementSha256: sha256(text) });
    } finally {
      await approvals.close();
    }
  });
});

import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openJsonlAuditFile, type AuditEntry } from "../runtime/audit/index.js";

const identity = { issuer: "https://issuer.test", subject: "bot-1", claims: { iss: "https://issuer.test", sub: "bot-1" } };

async function lines(path: string): Promise<AuditEntry[]> {
  return (await readFile(path, "utf8")).trimEnd().split("\n").map((line) => JSON.parse(line) as AuditEntry);
}

describe("JSON-lines audit file", () => {
  it("writes one JSON object per line, in order, and close() flushes", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "hoopgate-audit-")), "nested", "audit.jsonl");
    const sink = await openJsonlAuditFile(path);
    await sink.sessionStarted({ session: "s1", identity, connection: "orders-db", protocol: "postgres", client: "127.0.0.1:5555" });
    await sink.statement({
      session: "s1", identity: { issuer: identity.issuer, subject: identity.subject }, connection: "orders-db",
      text: "SELECT 1;\nSELECT 'a\"b'", decision: "allow", rules: ["p/allow#1"], rows: 1, bytes: 12, durationMs: 3,
    });
    await sink.statement({
      session: "s1", identity: { issuer: identity.issuer, subject: identity.subject }, connection: "orders-db",
      text: "DROP TABLE users", decision: "deny", rules: ["p/deny#1"], reason: "schema changes go through migrations",
      error: "denied",
    });
    await sink.sessionEnded({ session: "s1", rows: 1, bytes: 12, durationMs: 40 });
    await sink.close();

    const entries = await lines(path);
    expect(entries.map((e) => e.type)).toEqual(["session_started", "statement", "statement", "session_ended"]);
    expect(entries[1]).toMatchObject({ text: "SELECT 1;\nSELECT 'a\"b'", decision: "allow", rules: ["p/allow#1"], rows: 1 });
    expect(entries[2]).toMatchObject({ decision: "deny", reason: "schema changes go through migrations", error: "denied" });
    for (const e of entries) expect(Number.isNaN(Date.parse(e.time))).toBe(false);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it("appends to an existing file and batches many records without waiting on the disk", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "hoopgate-audit-")), "audit.jsonl");
    await writeFile(path, `${JSON.stringify({ type: "session_ended", time: "t", session: "old", rows: 0, bytes: 0, durationMs: 0 })}\n`);
    const sink = await openJsonlAuditFile(path);
    const accepted = [];
    for (let i = 0; i < 5000; i++) accepted.push(sink.sessionEnded({ session: `s${i}`, rows: i, bytes: 0, durationMs: 0 }));
    await Promise.all(accepted);
    await sink.close();
    const entries = await lines(path);
    expect(entries).toHaveLength(5001);
    expect(entries[0]).toMatchObject({ session: "old" });
    expect(entries[5000]).toMatchObject({ session: "s4999", rows: 4999 });
  });

  it("refuses records after close, and fails to open where it cannot write", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hoopgate-audit-"));
    const sink = await openJsonlAuditFile(join(dir, "a.jsonl"));
    await sink.close();
    await expect(sink.sessionEnded({ session: "s", rows: 0, bytes: 0, durationMs: 0 })).rejects.toThrow(/is closed/);
    await writeFile(join(dir, "not-a-dir"), "");
    await expect(openJsonlAuditFile(join(dir, "not-a-dir", "b.jsonl"))).rejects.toThrow(/ENOTDIR|EEXIST/);
  });

  it("writes what is still buffered when the process exits or crashes before the next flush", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hoopgate-audit-"));
    const sinkModule = fileURLToPath(new URL("../runtime/audit/index.ts", import.meta.url));
    const viteNode = fileURLToPath(new URL("../node_modules/.bin/vite-node", import.meta.url));
    for (const ending of ["process.exit(0);", "throw new Error('crash');"]) {
      const script = join(dir, "child.ts");
      await writeFile(script, [
        `import { openJsonlAuditFile } from ${JSON.stringify(sinkModule)};`,
        `const sink = await openJsonlAuditFile(${JSON.stringify(join(dir, "audit.jsonl"))});`,
        `void sink.sessionEnded({ session: ${JSON.stringify(ending)}, rows: 1, bytes: 2, durationMs: 3 });`,
        ending,
      ].join("\n"));
      const child = spawnSync(viteNode, [script], { encoding: "utf8" });
      expect(child.error, `cannot run ${viteNode}`).toBeUndefined();
      expect(child.status, child.stderr).toBe(ending.startsWith("throw") ? 1 : 0);
    }
    expect((await lines(join(dir, "audit.jsonl"))).map((e) => e.type === "session_ended" && e.session))
      .toEqual(["process.exit(0);", "throw new Error('crash');"]);
  });

  it("fails closed once the disk refuses a write", async () => {
    const sink = await openJsonlAuditFile("/dev/full");
    await sink.sessionEnded({ session: "s", rows: 0, bytes: 0, durationMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(sink.sessionEnded({ session: "t", rows: 0, bytes: 0, durationMs: 0 }))
      .rejects.toThrow("audit file /dev/full cannot be written: ENOSPC");
    await expect(sink.close()).rejects.toThrow(/ENOSPC/);
  });
});

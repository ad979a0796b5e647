// `hoopgate demo` end to end: the built CLI as a child process, its printed psql line run by
// the real psql, and tokens from `hoopgate token issue` accepted by the running demo.

import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeDataset } from "../runtime/demo/fake-pii.js";
import { DEMO_STATEMENTS } from "../runtime/demo/scenario.js";

const run = promisify(execFile);
const BIN = join(import.meta.dirname, "..", "bin", "hoopgate.js");
const READY_TIMEOUT_MS = 150_000;

interface Running {
  child: ChildProcess;
  stdout: string;
  token: string;
  conninfo: string;
  port: number;
}

let stateDir: string;
let demo: Running;

beforeAll(async () => {
  if (!existsSync(join(import.meta.dirname, "..", "dist", "cli", "main.js"))) {
    throw new Error("the demo test runs the built CLI: run `npm run build` first (npm test does)");
  }
  await run("psql", ["--version"]).catch(() => {
    throw new Error("the demo test needs the psql client (Debian package postgresql-client)");
  });
  stateDir = await mkdtemp(join(tmpdir(), "hoopgate-demo-"));
  demo = await startDemo(stateDir);
}, READY_TIMEOUT_MS + 10_000);

afterAll(async () => {
  if (demo?.child.exitCode === null) demo.child.kill("SIGKILL");
  await rm(stateDir, { recursive: true, force: true });
});

function startDemo(dir: string): Promise<Running> {
  const child = spawn(process.execPath, [BIN, "demo", "--state-dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`hoopgate demo was not ready within ${READY_TIMEOUT_MS} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, READY_TIMEOUT_MS);
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`hoopgate demo exited with ${code} before it was ready\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    });
    const onStdout = (chunk: Buffer): void => {
      stdout += chunk.toString();
      if (!stdout.includes("Press Ctrl-C to stop.")) return;
      child.stdout.off("data", onStdout);
      clearTimeout(timer);
      child.removeAllListeners("exit");
      const line = /PGPASSWORD=(\S+) psql "([^"]+)"/.exec(stdout);
      if (line === null) {
        reject(new Error(`no psql command line in the demo's output:\n${stdout}`));
        return;
      }
      const port = Number(/port=(\d+)/.exec(line[2]!)?.[1]);
      resolve({ child, stdout, token: line[1]!, conninfo: line[2]!, port });
    };
    child.stdout.on("data", onStdout);
  });
}

/** psql as a user would run it, unaligned output, errors with their SQLSTATE. */
async function psql(token: string, sql: string): Promise<{ out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(
      "psql",
      ["-X", "-A", "-F", "|", "-v", "VERBOSITY=verbose", "-c", sql, demo.conninfo],
      { env: { ...process.env, PGPASSWORD: token } },
    );
    return { out: stdout, err: stderr };
  } catch (error) {
    const e = error as { stdout: string; stderr: string };
    return { out: e.stdout, err: e.stderr };
  }
}

function statement(outcome: "allowed" | "masked" | "blocked"): string {
  const found = DEMO_STATEMENTS.find((s) => s.outcome === outcome);
  if (found === undefined) throw new Error(`the demo has no ${outcome} statement`);
  return found.sql;
}

const data = fakeDataset();

describe("hoopgate demo", () => {
  it("prints the three statements with what each returned", () => {
    expect(demo.stdout).toContain(statement("allowed"));
    expect(demo.stdout).toContain("ERROR 42501: statement denied: payment data is out of scope for support");
    for (const c of data.customers) expect(demo.stdout).not.toContain(c.email);
  });

  it("returns the allowed statement's rows through psql", async () => {
    const { out, err } = await psql(demo.token, statement("allowed"));
    expect(err).toBe("");
    const rows = out.trim().split("\n");
    expect(rows[0]).toBe("id|name|city|plan");
    expect(rows.slice(1, 4)).toEqual(data.customers.slice(0, 3).map((c) => `${c.id}|${c.name}|${c.city}|${c.plan}`));
    expect(rows[4]).toBe("(3 rows)");
  });

  it("masks email, phone and date of birth through psql", async () => {
    const { out, err } = await psql(demo.token, statement("masked"));
    expect(err).toBe("");
    const rows = out.trim().split("\n").slice(1, 4).map((r) => r.split("|"));
    expect(rows).toHaveLength(3);
    rows.forEach(([name, email, phone, dob], i) => {
      const customer = data.customers[i]!;
      expect(name).toBe(customer.name);
      expect(email).toMatch(/^\*+.{4}$/);
      expect(email).toHaveLength(customer.email.length);
      expect(email!.slice(-4)).toBe(customer.email.slice(-4));
      expect(phone).toBe("[REDACTED]");
      expect(dob).toBe("");
    });
    for (const c of data.customers) {
      expect(out).not.toContain(c.email);
      expect(out).not.toContain(c.phone);
      expect(out).not.toContain(c.dateOfBirth);
    }
  });

  it("blocks payment data with SQLSTATE 42501, and psql shows it", async () => {
    const { out, err } = await psql(demo.token, statement("blocked"));
    expect(out).toBe("");
    expect(err).toContain("ERROR:  42501: statement denied: payment data is out of scope for support");
    for (const p of data.paymentMethods) expect(err).not.toContain(p.cardNumber);
  });

  it("keeps the session usable after the block (pg, extended protocol)", async () => {
    const client = new pg.Client({ host: "127.0.0.1", port: demo.port, database: "app-db", user: "support-agent", password: demo.token });
    await client.connect();
    try {
      await expect(client.query({ text: statement("blocked"), values: [] })).rejects.toMatchObject({ code: "42501" });
      // tickets, not customers: an aggregate over a table with masked columns comes back masked (docs/masking.md)
      const { rows } = await client.query({ text: "SELECT count(*)::int AS n FROM tickets WHERE id <= $1", values: [10] });
      expect(rows).toEqual([{ n: 10 }]);
    } finally {
      await client.end();
    }
  });

  it("accepts tokens from `hoopgate token issue` and refuses identities no policy covers", async () => {
    const issue = (claims: object) =>
      run(process.execPath, [BIN, "token", "issue", "--key-dir", stateDir, "--sub", "support-agent@prod", "--claims", JSON.stringify(claims), "--ttl", "5m"]);
    const { stdout: token } = await issue({ client_id: "support-agent", env: "prod" });
    const allowed = await psql(token.trim(), "SELECT count(*) FROM tickets");
    expect(allowed.err).toBe("");
    expect(allowed.out).toContain(`${data.tickets.length}`);
    const { stdout: devToken } = await issue({ client_id: "support-agent", env: "dev" });
    const refused = await psql(devToken.trim(), "SELECT 1");
    expect(refused.err).toMatch(/FATAL/);
    expect(refused.out).toBe("");
  });

  it("stops cleanly on SIGINT", async () => {
    const exited = new Promise<number | null>((resolve) => demo.child.once("exit", (code) => resolve(code)));
    demo.child.kill("SIGINT");
    expect(await exited).toBe(0);
  });
});

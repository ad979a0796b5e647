// pgbouncer as a benchmark baseline: a child process with a generated ini (session pooling,
// trust auth) on a free loopback port. As root it drops to the postgres user (-u), which it
// insists on.

import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Pgbouncer {
  port: number;
  close(): Promise<void>;
}

export interface PgbouncerTarget {
  host: string;
  port: number;
  user: string;
  database: string;
}

export async function startPgbouncer(target: PgbouncerTarget): Promise<Pgbouncer> {
  const dir = await mkdtemp(join(tmpdir(), "hoopgate-pgbouncer-"));
  await chmod(dir, 0o755);
  const port = await freePort();
  const ini = [
    "[databases]",
    `${target.database} = host=${target.host} port=${target.port} dbname=${target.database} user=${target.user}`,
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    "unix_socket_dir =",
    "auth_type = trust",
    `auth_file = ${join(dir, "users.txt")}`,
    "pool_mode = session",
    "max_client_conn = 200",
    "default_pool_size = 32",
    "",
  ].join("\n");
  await writeFile(join(dir, "pgbouncer.ini"), ini, { mode: 0o644 });
  await writeFile(join(dir, "users.txt"), `"${target.user}" ""\n`, { mode: 0o644 });
  const args = [...(process.getuid?.() === 0 ? ["-u", "postgres"] : []), join(dir, "pgbouncer.ini")];
  let child: ChildProcess;
  try {
    child = spawn("pgbouncer", args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    throw new Error(`cannot start pgbouncer (Debian package pgbouncer): ${(error as Error).message}`);
  }
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const spawnError = new Promise<never>((_, reject) =>
    child.once("error", (error) => reject(new Error(`cannot start pgbouncer (Debian package pgbouncer): ${error.message}`))),
  );
  await Promise.race([waitForPort(port, "pgbouncer", () => stderr), spawnError]);
  return {
    port,
    async close() {
      child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export async function waitForPort(port: number, what: string, diagnostics: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on ${port} within 10 s: ${diagnostics()}`);
}

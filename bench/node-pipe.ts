// The ceiling of any proxy written in Node on this machine: a child process that copies bytes
// between each client socket and a socket to PostgreSQL, parsing nothing. The gateway pays the
// same two reads and two writes per round trip, then frames, decides, masks and records.

import { spawn } from "node:child_process";
import { freePort, waitForPort } from "./pgbouncer.js";

export interface NodePipe {
  port: number;
  close(): Promise<void>;
}

const PIPE = `
const net = require("node:net");
const [port, host, upstreamPort] = process.argv.slice(1);
net.createServer((client) => {
  const server = net.connect(Number(upstreamPort), host);
  client.setNoDelay(true);
  server.setNoDelay(true);
  client.pipe(server);
  server.pipe(client);
  const close = () => { client.destroy(); server.destroy(); };
  client.on("error", close).on("close", close);
  server.on("error", close).on("close", close);
}).listen(Number(port), "127.0.0.1");
`;

export async function startNodePipe(target: { host: string; port: number }): Promise<NodePipe> {
  const port = await freePort();
  const child = spawn(process.execPath, ["-e", PIPE, String(port), target.host, String(target.port)], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitForPort(port, "the Node pipe proxy", () => stderr);
  return {
    port,
    async close() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

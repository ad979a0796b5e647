// The PostgreSQL store's BatchWriter: a worker thread with its own connection builds the chain
// and runs the INSERTs, so the gateway's thread only hands over each batch (one postMessage).
// Batches are written one at a time; a failure comes back as the batch's rejection.

import { once } from "node:events";
import { Worker } from "node:worker_threads";
import type { LogLevel, Logger } from "../log.js";
import type { BatchWriter } from "./store-log.js";
import type { WriterData, WriterMessage, WriterReply } from "./append-worker.js";

export async function startWriterThread(url: string, location: string, logger: Logger): Promise<BatchWriter> {
  const workerData: WriterData = { url, logLevel: logger.level as LogLevel };
  const worker = new Worker(new URL("./append-worker.js", import.meta.url), { workerData });
  let waiting: { resolve(): void; reject(error: Error): void } | undefined;
  let gone: Error | undefined;
  const reply = (error?: Error): void => {
    const settle = waiting;
    waiting = undefined;
    if (error) settle?.reject(error);
    else settle?.resolve();
  };
  const next = (): Promise<void> => new Promise((resolve, reject) => (waiting = { resolve, reject }));
  worker.on("message", (message: WriterReply) => reply(message.error === undefined ? undefined : new Error(message.error)));
  worker.on("error", (error) => {
    gone ??= new Error(`the audit writer thread failed: ${error.message}`);
    reply(gone);
  });
  worker.on("exit", (code) => {
    gone ??= new Error(`the audit writer thread exited (code ${code})`);
    reply(gone);
  });
  try {
    await next(); // the worker's first message: connected, or why not
  } catch (err) {
    await worker.terminate();
    throw new Error(`the audit log in store ${location} cannot be opened: ${(err as Error).message}`);
  }
  return {
    location,
    write(batch) {
      if (gone) return Promise.reject(gone);
      worker.postMessage(batch satisfies WriterMessage);
      return next();
    },
    async close() {
      if (gone) return;
      const exited = once(worker, "exit");
      worker.postMessage("close" satisfies WriterMessage);
      await exited;
    },
  };
}

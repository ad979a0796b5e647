// The audit writer thread (writer-thread.ts starts it): appends each batch it is sent to the chain
// on its own connection to the PostgreSQL store, and answers each message once it is done.

import { parentPort, workerData } from "node:worker_threads";
import { createLogger, type LogLevel } from "../log.js";
import { openPgStore } from "../store/pg-store.js";
import { appendBatch, type EntryBatch } from "./append.js";

export interface WriterData {
  url: string;
  logLevel: LogLevel;
}

/** a batch to append, or "close": release the connection and end the thread */
export type WriterMessage = EntryBatch | "close";

/** the answer to each message, and the first one once connected: without `error`, done */
export interface WriterReply {
  error?: string;
}

const port = parentPort!;
const { url, logLevel } = workerData as WriterData;
const answer = (reply: WriterReply): void => port.postMessage(reply);

try {
  const store = await openPgStore(url, createLogger({ level: logLevel }));
  let queue = Promise.resolve();
  port.on("message", (message: WriterMessage) => {
    queue = queue.then(async () => {
      if (message === "close") {
        await store.close();
        port.close();
        return;
      }
      try {
        await store.transaction((tx) => appendBatch(tx, message));
        answer({});
      } catch (err) {
        answer({ error: (err as Error).message });
      }
    });
  });
  answer({});
} catch (err) {
  answer({ error: (err as Error).message });
}

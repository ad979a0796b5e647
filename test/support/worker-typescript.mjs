// Passed to the test processes with --import (vitest.config.ts): worker threads the runtime
// starts (the audit writer) load its TypeScript sources, where a built gateway loads dist/.
// Vitest transpiles what the tests import; a worker thread is plain Node, so it gets these hooks.

import { register } from "node:module";
import { isMainThread } from "node:worker_threads";

if (!isMainThread) register("./worker-typescript-hooks.mjs", import.meta.url);

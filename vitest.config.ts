import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // worker threads started by the runtime load its TypeScript sources through these hooks
    poolOptions: { forks: { execArgv: ["--import", fileURLToPath(new URL("./test/support/worker-typescript.mjs", import.meta.url))] } },
  },
});

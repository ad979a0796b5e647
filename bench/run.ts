// `npm run bench [-- NAME…]`: runs the benchmarks (all, or those named) and prints each one's
// lines. Every figure is a ratio against a baseline measured in the same run.

import { availableParallelism, loadavg } from "node:os";
import { benchCompile } from "./compile.js";
import { benchEngine } from "./engine.js";
import { benchMasking } from "./masking.js";
import { benchPgbench } from "./pgbench.js";
import type { BenchReport } from "./report.js";

const BENCHES: Record<string, () => Promise<BenchReport>> = {
  compile: benchCompile,
  engine: benchEngine,
  masking: async () => ({ name: "masking", lines: await benchMasking(), figures: {} }),
  pgbench: benchPgbench,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((n) => !(n in BENCHES));
if (unknown.length > 0) {
  console.error(`unknown bench ${unknown.join(", ")}; choose from ${Object.keys(BENCHES).join(", ")}`);
  process.exit(2);
}
const [l1] = loadavg();
console.log(`hoopgate benchmarks — ${availableParallelism()} cores, load average ${l1!.toFixed(1)} at start, node ${process.version}`);
console.log(`reproduce: npm run bench${wanted.length ? ` -- ${wanted.join(" ")}` : ""}\n`);
for (const name of wanted.length ? wanted : Object.keys(BENCHES)) {
  console.log(`## ${name}`);
  for (const line of (await BENCHES[name]!()).lines) console.log(line);
  console.log();
}

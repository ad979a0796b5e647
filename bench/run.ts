// Runs every benchmark and prints its lines. Each bench module exports an async function
// returning printable lines; add yours to the list.
import { benchEngine } from "./engine.js";
import { benchMasking } from "./masking.js";
import { benchPgbench } from "./pgbench.js";

const benches: (() => Promise<string[]>)[] = [benchMasking, async () => (await benchPgbench()).lines, async () => (await benchEngine()).lines];

for (const bench of benches) {
  for (const line of await bench()) console.log(line);
}

// Timing helpers shared by the benchmarks: throughput from a batch timed as a whole, latency
// percentiles from per-call samples (process.hrtime.bigint around each call).

export interface Latency {
  perSecond: number;
  p50Ns: number;
  p99Ns: number;
  samples: number;
}

export interface MeasureOptions {
  warmup: number;
  samples: number;
}

export function measure(call: (i: number) => unknown, { warmup, samples }: MeasureOptions): Latency {
  for (let i = 0; i < warmup; i++) call(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < samples; i++) call(i);
  const perSecond = samples / (Number(process.hrtime.bigint() - start) / 1e9);
  const times = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    call(i);
    times[i] = Number(process.hrtime.bigint() - t0);
  }
  times.sort();
  return { perSecond, p50Ns: percentile(times, 0.5), p99Ns: percentile(times, 0.99), samples };
}

/** What two hrtime.bigint() calls cost: included in every per-call sample. */
export function timerOverheadNs(): number {
  return measure(() => undefined, { warmup: 10_000, samples: 100_000 }).p50Ns;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function formatNs(ns: number): string {
  return ns < 10_000 ? `${(ns / 1000).toFixed(2)} µs` : `${(ns / 1000).toFixed(0)} µs`;
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M/s`;
  return perSecond >= 1e3 ? `${(perSecond / 1e3).toFixed(1)} k/s` : `${perSecond.toFixed(1)} /s`;
}

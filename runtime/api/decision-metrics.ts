// The per-statement metrics, counted on the data path with a few array writes and turned into
// Prometheus samples only when scraped. prom-client's Counter and Histogram hash their labels on
// every call, a cost paid once per statement at line rate.

import type { Metric, Registry } from "prom-client";

const EFFECTS = ["allow", "deny", "review"] as const;
type Effect = (typeof EFFECTS)[number];

/** upper bounds of the decision latency histogram, in seconds */
const BUCKETS = [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05];

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** prom-client's metric interface, as a Registry reads it */
interface RegistryMetric {
  name: string;
  help: string;
  type: "counter" | "histogram";
  aggregator: "sum";
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }>;
}

export class DecisionMetrics {
  private readonly byEffect = [0, 0, 0];
  /** per bucket, observations not above its bound and above the previous one; the last slot is +Inf */
  private readonly buckets = new Float64Array(BUCKETS.length + 1);
  private sum = 0;
  private count = 0;

  constructor(registry: Registry) {
    registry.registerMetric(this.metric("hoopgate_decisions_total", "Statement decisions by effect", "counter", () =>
      EFFECTS.map((effect, i) => ({ labels: { effect }, value: this.byEffect[i]! })),
    ));
    registry.registerMetric(this.metric("hoopgate_decision_seconds", "Time to decide one statement (facts and rules)", "histogram", () =>
      this.histogramSamples("hoopgate_decision_seconds"),
    ));
  }

  decided(effect: Effect, seconds: number): void {
    this.byEffect[effect === "allow" ? 0 : effect === "deny" ? 1 : 2]! += 1;
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    this.buckets[i]! += 1;
    this.sum += seconds;
    this.count += 1;
  }

  private histogramSamples(name: string): Sample[] {
    const samples: Sample[] = [];
    let cumulative = 0;
    BUCKETS.forEach((le, i) => {
      cumulative += this.buckets[i]!;
      samples.push({ labels: { le }, value: cumulative, metricName: `${name}_bucket` });
    });
    samples.push(
      { labels: { le: "+Inf" }, value: this.count, metricName: `${name}_bucket` },
      { labels: {}, value: this.sum, metricName: `${name}_sum` },
      { labels: {}, value: this.count, metricName: `${name}_count` },
    );
    return samples;
  }

  /** prom-client types registerMetric for its own classes; the Registry only reads these fields */
  private metric(name: string, help: string, type: RegistryMetric["type"], values: () => Sample[]): Metric {
    const metric: RegistryMetric = { name, help, type, aggregator: "sum", get: async () => ({ name, help, type, aggregator: "sum", values: values() }) };
    return metric as unknown as Metric;
  }
}

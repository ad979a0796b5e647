import { describe, expect, it } from "vitest";
import { createGatewayMetrics } from "../runtime/api/metrics.js";

describe("decision metrics", () => {
  it("exposes decisions by effect and a cumulative latency histogram in the Prometheus text format", async () => {
    const metrics = createGatewayMetrics(async () => 0);
    metrics.proxy.decided("allow", 0.000001);
    metrics.proxy.decided("allow", 0.00002);
    metrics.proxy.decided("deny", 0.2);
    const text = await metrics.registry.metrics();
    expect(text).toContain("# TYPE hoopgate_decisions_total counter");
    expect(text).toContain('hoopgate_decisions_total{effect="allow"} 2');
    expect(text).toContain('hoopgate_decisions_total{effect="deny"} 1');
    expect(text).toContain('hoopgate_decisions_total{effect="review"} 0');
    expect(text).toContain("# TYPE hoopgate_decision_seconds histogram");
    expect(text).toContain('hoopgate_decision_seconds_bucket{le="0.00001"} 1');
    expect(text).toContain('hoopgate_decision_seconds_bucket{le="0.00005"} 2');
    expect(text).toContain('hoopgate_decision_seconds_bucket{le="0.05"} 2');
    expect(text).toContain('hoopgate_decision_seconds_bucket{le="+Inf"} 3');
    expect(text).toContain("hoopgate_decision_seconds_count 3");
    expect(text).toMatch(/hoopgate_decision_seconds_sum 0\.2000\d*/);
  });
});

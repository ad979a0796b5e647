// The gateway's Prometheus metrics on a registry of its own (two gateways in one process do
// not collide): decisions by effect, decision latency, active sessions, pending approvals.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ProxyMetrics } from "../postgres/context.js";

export interface GatewayMetrics {
  registry: Registry;
  /** what the protocol proxies report into */
  proxy: ProxyMetrics;
}

export function createGatewayMetrics(pendingApprovals: () => Promise<number>): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "hoopgate_" });
  const decisions = new Counter({ name: "hoopgate_decisions_total", help: "Statement decisions by effect", labelNames: ["effect"] as const, registers: [registry] });
  const latency = new Histogram({
    name: "hoopgate_decision_seconds",
    help: "Time to decide one statement (facts and rules)",
    buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [registry],
  });
  const sessions = new Gauge({ name: "hoopgate_active_sessions", help: "Open client sessions", registers: [registry] });
  new Gauge({
    name: "hoopgate_pending_approvals",
    help: "Approval requests waiting for a decision",
    registers: [registry],
    async collect() {
      this.set(await pendingApprovals());
    },
  });
  return {
    registry,
    proxy: {
      decided(effect, seconds) {
        decisions.inc({ effect });
        latency.observe(seconds);
      },
      sessionOpened: () => sessions.inc(),
      sessionClosed: () => sessions.dec(),
    },
  };
}

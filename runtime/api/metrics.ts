// The gateway's Prometheus metrics on a registry of its own (two gateways in one process do
// not collide): decisions by effect, decision latency, active sessions, pending approvals.

import { Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { ProxyMetrics } from "../postgres/context.js";
import { DecisionMetrics } from "./decision-metrics.js";

export interface GatewayMetrics {
  registry: Registry;
  /** what the protocol proxies report into */
  proxy: ProxyMetrics;
}

export function createGatewayMetrics(pendingApprovals: () => Promise<number>): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "hoopgate_" });
  const decisions = new DecisionMetrics(registry);
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
      decided: (effect, seconds) => decisions.decided(effect, seconds),
      sessionOpened: () => sessions.inc(),
      sessionClosed: () => sessions.dec(),
    },
  };
}

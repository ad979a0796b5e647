// The gateway's Prometheus metrics on a registry of its own (two gateways in one process do
// not collide): decisions by effect, decision latency, active sessions, pending approvals, and
// the audit records waiting to be written.

import { Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { Backlog } from "../audit/store-log.js";
import type { ProxyMetrics } from "../postgres/context.js";
import { DecisionMetrics } from "./decision-metrics.js";

export interface GatewayMetrics {
  registry: Registry;
  /** what the protocol proxies report into */
  proxy: ProxyMetrics;
}

export function createGatewayMetrics(pendingApprovals: () => Promise<number>, auditBacklog?: () => Backlog): GatewayMetrics {
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
  if (auditBacklog !== undefined) {
    const gauge = (name: string, help: string, read: (backlog: Backlog) => number): void => {
      new Gauge({ name, help, registers: [registry], collect() { this.set(read(auditBacklog())); } });
    };
    gauge("hoopgate_audit_backlog_records", "Audit records accepted and not yet written to the store", (b) => b.records);
    gauge("hoopgate_audit_backlog_chars", "Size of the audit records waiting to be written, in characters of their text (the budget's unit)", (b) => b.chars);
    gauge("hoopgate_audit_backlog_oldest_seconds", "How long the oldest audit record waiting to be written has waited", (b) => b.oldestMs / 1000);
  }
  return {
    registry,
    proxy: {
      decided: (effect, seconds) => decisions.decided(effect, seconds),
      sessionOpened: () => sessions.inc(),
      sessionClosed: () => sessions.dec(),
    },
  };
}

// One audit sink writing to several: the store's hash-chained log and, when configured, a
// JSON-lines file for log shippers. A record counts as written only when every sink took it.

import type { AuditSink } from "./sink.js";

export function teeAuditSink(sinks: readonly AuditSink[]): AuditSink {
  const all = async (write: (sink: AuditSink) => Promise<void>): Promise<void> => {
    await Promise.all(sinks.map(write));
  };
  return {
    sessionStarted: (record) => all((s) => s.sessionStarted(record)),
    statement: (record) => all((s) => s.statement(record)),
    sessionEnded: (record) => all((s) => s.sessionEnded(record)),
    congestion: () => {
      for (const sink of sinks) {
        const congested = sink.congestion?.();
        if (congested !== undefined) return congested;
      }
      return undefined;
    },
    backpressure: () => {
      // asked before each client message: nothing is allocated while every sink keeps up
      let waits: Promise<void>[] | undefined;
      for (const sink of sinks) {
        const drained = sink.backpressure?.();
        if (drained !== undefined) (waits ??= []).push(drained);
      }
      return waits === undefined ? undefined : Promise.all(waits).then(() => undefined);
    },
    onOverload: (listener) => {
      const unsubscribe = sinks.map((sink) => sink.onOverload?.(listener));
      return () => {
        for (const stop of unsubscribe) stop?.();
      };
    },
    close: () => all((s) => s.close()),
  };
}

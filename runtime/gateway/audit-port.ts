// The proxy's fire-and-forget audit events, recorded through an AuditSink. Each statement
// record repeats who and where (so every line stands alone) and keeps a bounded part of what the
// client chose (runtime/audit/bounds.ts), the same record for every sink. A sink that can no
// longer record marks the port unhealthy: the gateway refuses new sessions and the open ones end
// (fail closed). A sink that falls behind its budget refuses new sessions for as long as it is
// behind, one past its high-water mark makes sessions stop reading their clients until it drains,
// and one past its hard limit ends the open sessions while it keeps every record.

import { clipMessage, cutText, MAX_AUDIT_TEXT_BYTES, MAX_REFUSED_TEXT_BYTES } from "../audit/bounds.js";
import type { AuditSink } from "../audit/index.js";
import type { Identity } from "../facts/types.js";
import type { Logger } from "../log.js";
import type { AuditEnd, ProxyAudit } from "../postgres/context.js";

export interface AuditPort extends ProxyAudit {
  /** the sink's failure, once it rejected a record; or, while it lasts, its congestion (records waiting beyond its budget) */
  failure(): Error | undefined;
  /** resolves once every started session has ended, or after `timeoutMs` */
  drain(timeoutMs: number): Promise<void>;
}

interface OpenSession {
  identity: Pick<Identity, "issuer" | "subject">;
  connection: string;
  startedAt: number;
}

export function createAuditPort(sink: AuditSink, logger: Logger): AuditPort {
  const sessions = new Map<string, OpenSession>();
  let failed: Error | undefined;
  /** the open sessions' onFailure listeners */
  const onFailure = new Set<(end: AuditEnd) => void>();
  const cannotRecord: AuditEnd = { code: "58000", message: "the audit log cannot be written, so statements can no longer be recorded", answerFirst: false };
  // past its hard limit the sink still takes every record: ending the sessions making them bounds what comes
  sink.onOverload?.(() => {
    logger.error({ sessions: onFailure.size }, "audit log past its hard limit: open sessions end (their records are kept); new ones wait until it catches up");
    const end: AuditEnd = { code: "53000", message: "the audit log is too far behind; its records are kept, connect again once it catches up", answerFirst: true };
    for (const listener of [...onFailure]) listener(end);
  });
  let drained: (() => void) | undefined;
  /** a batching sink hands every record of one batch the same promise: one handler is enough */
  let watched: Promise<void> | undefined;
  const record = (write: Promise<void>): void => {
    if (write === watched) return;
    watched = write;
    write.catch((error: unknown) => {
      if (failed !== undefined) return;
      failed = error instanceof Error ? error : new Error(String(error));
      logger.error({ err: failed, sessions: onFailure.size }, "audit sink failed: new sessions are refused and open ones end");
      for (const listener of [...onFailure]) listener(cannotRecord);
      onFailure.clear();
    });
  };
  /** the congestion last seen, to log when it starts and ends */
  let congested: Error | undefined;
  return {
    failure() {
      if (failed !== undefined) return failed;
      const now = sink.congestion?.();
      if (now !== congested) {
        if (now !== undefined) logger.error({ err: now }, "audit log behind: new sessions are refused until it catches up");
        else logger.warn("audit log caught up: new sessions are accepted again");
        congested = now;
      }
      return now;
    },
    backpressure: () => sink.backpressure?.(),
    onFailure(listener) {
      if (failed !== undefined) {
        listener(cannotRecord);
        return () => undefined;
      }
      onFailure.add(listener);
      return () => void onFailure.delete(listener);
    },
    drain(timeoutMs) {
      if (sessions.size === 0) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
    sessionStarted(event) {
      const { issuer, subject } = event.identity;
      sessions.set(event.sessionId, { identity: { issuer, subject }, connection: event.connection, startedAt: event.startedAt.getTime() });
      record(sink.sessionStarted({
        session: event.sessionId,
        // what the token said; expiresAt is derived from it (and a Date is not JSON the chain takes)
        identity: { issuer, subject, claims: event.identity.claims },
        connection: event.connection,
        protocol: "postgres",
        client: event.client,
      }));
    },
    statement(event) {
      const open = sessions.get(event.sessionId);
      // what the client chose is kept to a bounded size (bounds.ts): a length check when it fits
      const cut = cutText(event.text, event.refused === true ? MAX_REFUSED_TEXT_BYTES : MAX_AUDIT_TEXT_BYTES);
      record(sink.statement({
        session: event.sessionId,
        identity: open?.identity ?? { issuer: "", subject: "" },
        connection: open?.connection ?? "",
        text: cut === undefined ? event.text : cut.text,
        ...(cut !== undefined && { textBytes: cut.bytes, textSha256: cut.sha256 }),
        decision: event.effect,
        rules: event.rules,
        reason: clipMessage(event.reason),
        rows: event.rows,
        bytes: event.bytes,
        durationMs: event.durationMs,
        ...(event.error !== undefined && { error: clipMessage(event.error) }),
        ...(event.approval !== undefined && { approval: event.approval }),
        ...(event.output !== undefined && { output: event.output }),
      }));
    },
    sessionEnded(event) {
      const open = sessions.get(event.sessionId);
      sessions.delete(event.sessionId);
      if (sessions.size === 0) drained?.();
      record(sink.sessionEnded({
        session: event.sessionId,
        rows: event.rows,
        bytes: event.bytes,
        durationMs: open === undefined ? 0 : event.endedAt.getTime() - open.startedAt,
        ...(event.error !== undefined && { error: clipMessage(event.error) }),
      }));
    },
  };
}

// Admin changes go into the same audit trail as data-path statements, on the pseudo-connection
// `hoopgate.admin`: an authorized change is recorded before it is made (so a sink that cannot
// record refuses the change); a refused or failed one is recorded with the reason.

import { randomUUID } from "node:crypto";
import type { AuditSink } from "../../audit/index.js";
import type { AdminActor } from "./auth.js";

export const ADMIN_CONNECTION = "hoopgate.admin";

export interface AdminAudit {
  /** Records the change, then runs it; rejects without running it when the audit cannot be written. */
  change<T>(actor: AdminActor, action: string, run: () => Promise<T>): Promise<T>;
  refused(actor: AdminActor | undefined, action: string, reason: string): void;
}

export function createAdminAudit(sink: Pick<AuditSink, "statement">): AdminAudit {
  const record = (actor: AdminActor, action: string, decision: "allow" | "deny", reason?: string) =>
    sink.statement({
      session: `admin-${randomUUID()}`,
      identity: actor,
      connection: ADMIN_CONNECTION,
      text: action,
      decision,
      rules: [],
      ...(reason !== undefined && { reason }),
    });
  return {
    async change(actor, action, run) {
      await record(actor, action, "allow");
      return run();
    },
    refused(actor, action, reason) {
      void record(actor ?? { issuer: "", subject: "anonymous" }, action, "deny", reason).catch(() => undefined);
    },
  };
}

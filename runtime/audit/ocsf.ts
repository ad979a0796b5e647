// `hoopgate audit export`: one JSON object per entry, OCSF-shaped where a class fits
// (Authentication for sessions, Datastore Activity for statements, API Activity for approvals
// and configuration changes); the chained entry itself rides in `unmapped` with its hash data
// in `metadata`, so an export can be re-verified.

import type { ChainEntry } from "./chain.js";

const SEVERITY = { info: 1, medium: 3 } as const;

export function toOcsf(entry: ChainEntry): Record<string, unknown> {
  const d = entry.data;
  const base = {
    time: Date.parse(entry.time),
    metadata: { product: { name: "hoopgate", vendor_name: "hoopgate" }, version: "1.1.0", sequence: entry.seq, log_name: "audit", correlation_uid: entry.session },
    unmapped: entry,
  };
  const identity = d.identity as { issuer?: string; subject?: string } | undefined;
  const actor = identity === undefined ? undefined : { user: { uid: identity.subject, type: "Service" }, idp: { name: identity.issuer } };
  switch (entry.type) {
    case "session_started":
    case "session_ended":
      return {
        ...base,
        class_uid: 3002, class_name: "Authentication", category_uid: 3, category_name: "Identity & Access Management",
        activity_id: entry.type === "session_started" ? 1 : 2, activity_name: entry.type === "session_started" ? "Logon" : "Logoff",
        severity_id: SEVERITY.info, status_id: d.error ? 2 : 1, status_detail: d.error,
        actor, session: { uid: entry.session }, dst_endpoint: { name: d.connection }, src_endpoint: d.client ? { name: d.client } : undefined,
      };
    case "statement":
      return {
        ...base,
        class_uid: 6005, class_name: "Datastore Activity", category_uid: 6, category_name: "Application Activity",
        activity_id: 99, activity_name: "Query",
        severity_id: d.decision === "allow" ? SEVERITY.info : SEVERITY.medium,
        status_id: d.decision === "deny" || d.error ? 2 : 1, status_detail: d.error ?? d.reason,
        // a review that was refused (denied, expired) carries the refusal as its error
        disposition: d.decision === "deny" || (d.decision === "review" && d.error !== undefined) ? "Blocked" : d.decision === "review" ? "Approved" : "Allowed",
        actor, session: { uid: entry.session }, database: { name: d.connection },
        query_info: { query_string: d.text }, policy: { uid: Array.isArray(d.rules) ? d.rules.join(",") : undefined },
      };
    default:
      return {
        ...base,
        class_uid: 6003, class_name: "API Activity", category_uid: 6, category_name: "Application Activity",
        activity_id: 99, activity_name: entry.type, severity_id: SEVERITY.info, status_id: 1,
      };
  }
}

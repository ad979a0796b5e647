// What the PostgreSQL proxy needs from the rest of the gateway, and nothing more, so the proxy
// can be tested on its own and `hoopgate serve` can wire the real parts in.

import type { Logger } from "../log.js";
import type { Decision, SessionResult } from "../engine/types.js";
import type { Identity } from "../facts/types.js";
import type { MaskStrategy } from "../bundle/format.js";
import type { CopyFormat } from "../masking/index.js";
import type { DetectorName } from "../schema/attributes.js";

/** The real database behind one connection name, with the credentials the client never sees. */
export interface PgTarget {
  host: string;
  port: number;
  user: string;
  database: string;
  /** absent: the target must accept trust authentication */
  password?: string;
  /** absent: plain TCP, as with mode `disable` (the gateway's own targets always carry it: runtime/gateway/targets.ts) */
  tls?: UpstreamTls;
  /**
   * The login methods the gateway goes along with when the upstream asks (libpq's
   * `require_auth`); absent: `defaultAuthMethods(tls)` (server-connect.ts) — SCRAM and trust
   * always, a cleartext or md5 password only over TLS that verifies the server.
   */
  requireAuth?: readonly UpstreamAuthMethod[];
}

/** libpq's `require_auth` names: SCRAM-SHA-256, md5, a cleartext password, no authentication (trust). */
export type UpstreamAuthMethod = "scram-sha-256" | "md5" | "password" | "none";
export const UPSTREAM_AUTH_METHODS: readonly UpstreamAuthMethod[] = ["scram-sha-256", "md5", "password", "none"];

/** libpq's sslmode, without the modes that fall back to plaintext (`allow`, `prefer`). */
export type UpstreamTlsMode = "disable" | "require" | "verify-ca" | "verify-full";

/** How the gateway protects its connection to a target (sessions and CancelRequests alike). */
export interface UpstreamTls {
  /**
   * `disable`: plain TCP; `require`: TLS, the server not verified (a passive eavesdropper
   * learns nothing, an active one can impersonate the server); `verify-ca`: the server's chain
   * ends in `ca`; `verify-full`: that, and its certificate names the target's host or address.
   */
  mode: UpstreamTlsMode;
  /** PEM CA certificates; absent: Node's built-in public roots (verify-full only) */
  ca?: string;
  /** PEM client certificate, with its unencrypted private key, for servers that ask for one */
  cert?: string;
  privateKey?: string;
  /** where it was configured, for error messages: `connections.NAME.tls` */
  setting: string;
}

/** One result column as the masking module needs it. */
export interface MaskColumn {
  /** the column mask for this column; null: only detectors apply */
  strategy: MaskStrategy | null;
  /** 0 text, 1 binary */
  format: number;
  typeOid: number;
}

/** The masking module behind a narrow port (runtime/masking implements it). */
export interface RowMasking {
  /** null when nothing can change in rows of this shape */
  planRows(columns: MaskColumn[], detectors: ReadonlyMap<DetectorName, MaskStrategy>): RowMaskPlan | null;
  /**
   * Detectors over the `columns` fields of COPY TO STDOUT output laid out as `format` (COPY of
   * tables with column masks is refused before it runs); null when there is nothing to detect.
   */
  planCopy(detectors: ReadonlyMap<DetectorName, MaskStrategy>, format: CopyFormat, columns: number): CopyMaskPlan | null;
}

export interface CopyMaskPlan {
  /** a whole CopyData message in, the masked message out; null while it holds only the start of a row */
  maskCopyData(message: Buffer): Buffer | null;
  /** at CopyDone: the masked rest of a row still held, if any */
  end(): Buffer | null;
}

export interface RowMaskPlan {
  /** a whole DataRow message (type byte included) in, the masked message out */
  maskDataRow(message: Buffer): Buffer;
  /** whole DataRow messages back to back; may overwrite values in `run` and return it */
  maskDataRows(run: Buffer): Buffer;
}

export interface SessionAuditStart {
  sessionId: string;
  identity: Identity;
  connection: string;
  client: string;
  startedAt: Date;
}

export interface StatementAudit {
  sessionId: string;
  text: string;
  effect: "allow" | "deny" | "review";
  rules: string[];
  reason: string;
  rows: number;
  bytes: number;
  durationMs: number;
  /** the gateway did not run it (denied, or a review refused): its record keeps less of its text */
  refused?: true;
  /** the upstream or gateway error that ended the statement */
  error?: string;
  /** review: the approval request that released or refused it */
  approval?: string;
  /** what the client received (masked), up to the capture cap; absent when nothing was returned */
  output?: CapturedOutput;
}

export interface CapturedOutput {
  columns: string[];
  /** text values; binary ones as `\\x` hex */
  rows: (string | null)[][];
  truncated: boolean;
}

/** A statement whose decision is `review`, as the approvals service needs it. */
export interface ApprovalAsk {
  sessionId: string;
  identity: Identity;
  connection: string;
  /** the exact statement text the client sent (the request binds its sha256) */
  text: string;
  decision: Decision;
}

export type ApprovalVerdict =
  | { outcome: "approved"; by: string }
  | { outcome: "denied"; by: string; note?: string }
  | { outcome: "expired" }
  /** the approval was already used by another execution (it releases exactly one) */
  | { outcome: "used" };

/** A created (or re-attached) approval request the session waits on. */
export interface HeldStatement {
  id: string;
  /** where an approver acts on it */
  url: string;
  expiresAt: Date;
  /** true when a pending request for the same identity, connection and text already existed */
  attached: boolean;
  /** settles with the decision; an aborted signal stops waiting (the request stays for a re-run) */
  wait(signal: AbortSignal): Promise<ApprovalVerdict>;
}

/** The approvals service behind a narrow port (runtime/approvals implements it). */
export interface ProxyApprovals {
  /** throws when the request cannot be recorded: the statement is then refused */
  hold(ask: ApprovalAsk): Promise<HeldStatement>;
}

export interface SessionAuditEnd {
  sessionId: string;
  endedAt: Date;
  rows: number;
  bytes: number;
  /** why the session ended abnormally (protocol error, limit, upstream failure) */
  error?: string;
}

export interface ProxyAudit {
  sessionStarted(event: SessionAuditStart): void;
  statement(event: StatementAudit): void;
  sessionEnded(event: SessionAuditEnd): void;
  /**
   * While the audit log's backlog is past its high-water mark, a promise that resolves once it
   * has drained: the session reads nothing more from its client until then. Absent or undefined:
   * go on.
   */
  backpressure?(): Promise<void> | undefined;
  /**
   * Calls `listener` with the FATAL to end the session with once the audit log can no longer
   * record (at once if it already cannot), or when it is so far behind that the sessions making
   * records must stop; returns the unsubscribe.
   */
  onFailure?(listener: (end: AuditEnd) => void): () => void;
}

/** Counters the API's /metrics exposes (runtime/api/metrics.ts implements it). */
export interface ProxyMetrics {
  decided(effect: "allow" | "deny" | "review", seconds: number): void;
  sessionOpened(): void;
  sessionClosed(): void;
}

export interface ProxyTls {
  key: string | Buffer;
  cert: string | Buffer;
}

export interface ProxyContext {
  /** the current engine's session for this identity (a bundle reload changes it for new sessions) */
  openSession(identity: Identity, connection: string): SessionResult;
  /**
   * Calls `listener` after each change of the policy in force; returns the unsubscribe. Open
   * sessions then ask `openSession` again and end when it refuses (session-validity.ts).
   */
  policyChanges?(listener: () => void): () => void;
  /**
   * Calls `listener` after each change of the connections or token issuers in force (the admin
   * API, on this replica or another); returns the unsubscribe. Open sessions then check that
   * their connection still leads to the target they are connected to and that `distrust` keeps
   * their token's trust, and end when not (session-validity.ts). Absent: they never change.
   */
  accessChanges?(listener: () => void): () => void;
  /** why the issuers in force no longer accept the identity's token (TokenVerifier.distrust); undefined: they do */
  distrust?(identity: Identity): string | undefined;
  /** throws an Error whose message the client may see */
  verifyToken(token: string): Promise<Identity>;
  target(connection: string): PgTarget | undefined;
  masking: RowMasking;
  audit: ProxyAudit;
  /** absent: `review` statements are refused, never held */
  approvals?: ProxyApprovals;
  metrics?: ProxyMetrics;
  tls?: ProxyTls;
  /** ask for the token in clear text over plain TCP when the client is on loopback */
  allowCleartextOnLoopback: boolean;
  /** the largest Query or Parse message a client may send; default 1 MiB (statement-limit.ts) */
  maxStatementBytes?: number;
  logger: Logger;
}

/** Why the audit log ends the open sessions. */
export interface AuditEnd {
  code: string;
  message: string;
  /** the log still records: what the session already sent is answered (and recorded) first, as the server runs it anyway */
  answerFirst: boolean;
}

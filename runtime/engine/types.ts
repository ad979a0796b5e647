// The decision engine's public contract: what the compiler's test runner, `explain`, `diff`
// and the protocol proxies all call. Implementation: runtime/engine/*.ts.

import type { Effect, MaskStrategy } from "../bundle/format.js";
import type { DetectorName, SqlCopyKind, SshKind } from "../schema/attributes.js";
import type { K8sFacts, SqlIndirect, SqlSessionNames, SqlStores } from "../facts/types.js";

export interface StatementDecision {
  command: string;
  /** COPY: its direction and endpoint */
  copy?: SqlCopyKind;
  tables: string[];
  functions: string[];
  /** operators, casts, EXECUTE/FETCH: for the proxy's masking, no policy attribute */
  indirect?: SqlIndirect;
  /** values the statement keeps beyond its result: for the proxy's masking, no policy attribute */
  stores?: SqlStores;
  /** prepared statements and cursors it may create, replace or drop: for the proxy's name tracking, no policy attribute */
  sessionNames?: SqlSessionNames;
  /** creates a view, schema or rule, renames or moves an object: for the proxy's masking, no policy attribute */
  rebinds?: true;
  /** creates or changes code the server runs later: for the proxy's masking, no policy attribute */
  definesCode?: true;
  /** the prepared statements EXECUTE runs: for the proxy, no policy attribute */
  executes?: string[];
  /** the cursors FETCH and MOVE read: for the proxy, no policy attribute */
  fetches?: string[];
  effect: Effect;
  /** ids of the rules that decided this statement (the denying, reviewing or allowing ones) */
  rules: string[];
  reason: string;
}

export interface Decision {
  effect: Effect;
  /** human-readable: the deny rule's reason, "approval required by …", or "no policy allows …" */
  reason: string;
  /** ids of the rules behind `effect` across all statements, sorted, deduplicated */
  rules: string[];
  /** review: every group that may approve (an approver must satisfy each review rule) */
  approvers: string[];
  /** review: the shortest timeout among the matching review rules */
  timeoutMs?: number;
  /** review: one approver-group list per matching review rule (each must be satisfied) */
  reviewRules?: { id: string; approvers: string[] }[];
  /** sql: one entry per statement, in order */
  statements: StatementDecision[];
}

/** Column masks resolved for a session: lowercased `table.column` and `schema.table.column` keys. */
export interface SessionMasks {
  columns: ReadonlyMap<string, MaskStrategy>;
  /** detectors to run over every text value, with the strategy for each */
  detectors: ReadonlyMap<DetectorName, MaskStrategy>;
}

export interface SessionLimits {
  rowsPerSession?: number;
  rowsPerStatement?: number;
  bytesPerSession?: number;
  bytesPerStatement?: number;
}

export interface SshRequest {
  kind: SshKind;
  /** exec: the command line */
  command?: string;
}

/** One identity on one connection: applicable policies merged and memoized. */
export interface SessionPolicy {
  connection: string;
  /** declared groups the identity is in */
  groups: string[];
  /** names of the applicable policies */
  policies: string[];
  masks: SessionMasks;
  limits: SessionLimits;
  decideSql(text: string, now?: Date): Decision;
  /** async: the shell parser is WebAssembly behind a promise API */
  decideSsh(request: SshRequest, now?: Date): Promise<Decision>;
  decideK8s(request: K8sFacts, now?: Date): Decision;
}

export type SessionResult =
  | { ok: true; session: SessionPolicy }
  /**
   * no applicable policy, unknown connection, or no bundle: refuse at connect time. `gatewayWide`:
   * the refusal holds for every connection name (no bundle loaded, the audit log failing), so
   * the client may be told why; otherwise it is told only that access is refused (the proxy
   * does not say which connections exist).
   */
  | { ok: false; reason: string; gatewayWide?: true };

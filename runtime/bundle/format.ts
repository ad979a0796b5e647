// The compiled bundle, `hoopgate.bundle/v1` (DESIGN.md §3). Plain JSON: the compiler writes
// it, the runtime validates and loads it. Conditions are a small expression tree that the
// runtime turns into closures once, at load.

import type { ConnectionKind, DetectorName, MaskStrategyKind } from "../schema/attributes.js";

export const BUNDLE_FORMAT = "hoopgate.bundle/v1";

export type Scalar = string | number | boolean;

/**
 * A condition over flat attribute names (`sql.command`, `claims.repository`).
 * Every leaf reads one attribute and compares it with literals; a missing attribute
 * makes every leaf on it false (so `not` of it is true — as in Cedar, write the
 * positive form when that matters).
 */
export type Cond =
  | { op: "true" }
  | { op: "and"; args: Cond[] }
  | { op: "or"; args: Cond[] }
  | { op: "not"; arg: Cond }
  | { op: "cmp"; cmp: "==" | "!=" | "<" | "<=" | ">" | ">="; attr: string; value: Scalar }
  /** scalar attribute is one of the values */
  | { op: "in"; attr: string; values: Scalar[] }
  /** set attribute contains the value (`"dba" in claims.groups`) */
  | { op: "contains"; attr: string; value: Scalar }
  | { op: "has_any" | "has_all" | "within"; attr: string; values: Scalar[] }
  /** glob with `*` only, whole-string match */
  | { op: "like"; attr: string; pattern: string }
  /** regex already checked linear-time by the compiler */
  | { op: "matches"; attr: string; regex: string };

export interface BundleConnection {
  kind: ConnectionKind;
  tags: string[];
}

export interface BundleGroup {
  issuer: string;
  when: Cond;
}

export type Effect = "allow" | "deny" | "review";

export interface BundleRule {
  /** Stable id: the rule's `id` option, else `POLICY/EFFECT#N` (N counts that effect in the policy). */
  id: string;
  policy: string;
  effect: Effect;
  /** `when` and `not unless` combined. */
  cond: Cond;
  reason?: string;
  /** review only: group names; an approver must be in one of them for each matching rule */
  approvers?: string[];
  /** review only */
  timeoutMs?: number;
  /** `file:line:col` of the rule, for coverage and explain */
  source: string;
}

export interface MaskStrategy {
  kind: MaskStrategyKind;
  /** partial(N): keep the last N characters */
  keep?: number;
}

export interface BundleMask {
  id: string;
  policy: string;
  /** lowercased `table.column` or `schema.table.column`; empty for detect rules */
  columns: string[];
  detectors: DetectorName[];
  strategy: MaskStrategy;
  cond: Cond;
  source: string;
}

export interface BundleLimit {
  id: string;
  policy: string;
  measure: "rows" | "bytes";
  value: number;
  per: "session" | "statement";
  source: string;
}

/** Rules of one policy, indexed by the connection kind's discriminant (DESIGN.md §3). */
export interface RuleIndex {
  /** the discriminating attribute, e.g. `sql.command` */
  attr: string;
  /** discriminant value → indexes into `BundlePolicy.rules`, in source order */
  byValue: Record<string, number[]>;
  /** rules that do not pin the discriminant: checked for every value */
  any: number[];
}

export interface BundlePolicy {
  name: string;
  description?: string;
  /** group names */
  subjects: string[];
  /** resolved connection names this policy applies to */
  connections: string[];
  rules: BundleRule[];
  /** one index per connection kind the policy reaches */
  index: Partial<Record<ConnectionKind, RuleIndex>>;
  masks: BundleMask[];
  limits: BundleLimit[];
  source: string;
}

export interface BundleTest {
  name: string;
  source: string;
}

export interface Bundle {
  format: typeof BUNDLE_FORMAT;
  /** sorted by path; path relative to the compiled root */
  sources: { path: string; sha256: string }[];
  connections: Record<string, BundleConnection>;
  groups: Record<string, BundleGroup>;
  policies: BundlePolicy[];
  /** connection name → indexes into `policies` that may apply there */
  byConnection: Record<string, number[]>;
  /** sha256 (hex) of the canonical JSON of this document without the `sha256` key */
  sha256: string;
}

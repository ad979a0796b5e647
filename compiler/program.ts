// The checked program: declarations with their names resolved and conditions lowered.
// Produced by check.ts, consumed by lower.ts (the bundle), analysis.ts (warnings) and the
// policy test runner.

import type { Span } from "../dsl/ast.js";
import type { BundleLimit, BundleMask, BundleRule, Cond } from "../runtime/bundle/format.js";
import type { ConnectionKind } from "../runtime/schema/attributes.js";

export interface CheckedConnection {
  name: string;
  kind: ConnectionKind;
  tags: string[];
  span: Span;
}

export interface CheckedGroup {
  name: string;
  issuer: string;
  when: Cond;
  span: Span;
}

export interface CheckedRule extends BundleRule {
  span: Span;
}

export interface CheckedPolicy {
  name: string;
  description?: string;
  subjects: string[];
  connections: string[];
  kinds: ConnectionKind[];
  rules: CheckedRule[];
  masks: (BundleMask & { span: Span })[];
  limits: (BundleLimit & { span: Span })[];
  source: string;
  span: Span;
}

export type CheckedExpectation =
  | { kind: "decision"; effect: "allow" | "deny" | "review"; protocol: "sql" | "ssh"; input: string; connection: string; span: Span }
  | { kind: "masked"; columns: string[]; connection: string; span: Span }
  | { kind: "refused"; connection: string; span: Span };

export interface CheckedTest {
  name: string;
  /** the token's claims; `iss` and `sub` included */
  claims: Record<string, unknown>;
  expectations: CheckedExpectation[];
  span: Span;
}

export interface Program {
  connections: Map<string, CheckedConnection>;
  groups: Map<string, CheckedGroup>;
  policies: CheckedPolicy[];
  tests: CheckedTest[];
}

export function location(span: Span): string {
  return `${span.file}:${span.start.line}:${span.start.column}`;
}

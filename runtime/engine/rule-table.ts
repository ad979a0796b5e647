// The merged rule table of one policy set on one connection kind, built once per distinct set
// and shared by every session with that set. Rules are grouped by discriminant value (each
// list already holds the policies' `any` rules) and split by effect, so a statement costs one
// map lookup and a scan of the deny list, then reviews, then allows.

import type { Bundle, BundlePolicy, BundleRule, Effect } from "../bundle/format.js";
import type { ConnectionKind } from "../schema/attributes.js";
import { DISCRIMINANT } from "../schema/attributes.js";
import { compileCond, type Predicate } from "./cond.js";
import { vocabularySlot, type AttributeSlots } from "./slots.js";

export interface CompiledRule {
  readonly id: string;
  readonly effect: Effect;
  readonly test: Predicate;
  readonly reason: string | undefined;
  readonly approvers: readonly string[];
  readonly timeoutMs: number | undefined;
  /** the statement's reason when this rule alone decides it */
  readonly alone: string;
}

export interface RuleSet {
  readonly deny: readonly CompiledRule[];
  readonly review: readonly CompiledRule[];
  readonly allow: readonly CompiledRule[];
}

export interface RuleTable {
  readonly kind: ConnectionKind;
  /** the attribute the table is indexed by, e.g. `sql.command` */
  readonly discriminant: string;
  readonly discriminantSlot: number;
  readonly byValue: ReadonlyMap<string, RuleSet>;
  /** for a discriminant value no rule pins */
  readonly any: RuleSet;
}

export function compileRule(rule: BundleRule, slots: AttributeSlots): CompiledRule {
  const approvers = rule.approvers ?? [];
  return {
    id: rule.id,
    effect: rule.effect,
    test: compileCond(rule.cond, slots),
    reason: rule.reason,
    approvers,
    timeoutMs: rule.timeoutMs,
    alone: reasonAlone(rule, approvers),
  };
}

function reasonAlone(rule: BundleRule, approvers: readonly string[]): string {
  switch (rule.effect) {
    case "deny":
      return rule.reason ?? `denied by rule ${rule.id}`;
    case "review":
      return approvers.length === 0
        ? `approval required, but rule ${rule.id} names no approvers`
        : `approval required by ${[...approvers].sort().join(", ")}`;
    case "allow":
      return `allowed by ${rule.id}`;
  }
}

/** `policies` are indexes into the bundle, ascending; `compiled[p][r]` is policy p's rule r. */
export function mergeRuleTable(
  bundle: Bundle,
  compiled: readonly (readonly CompiledRule[])[],
  policies: readonly number[],
  kind: ConnectionKind,
): RuleTable {
  const values = new Set<string>();
  for (const p of policies) {
    for (const v of Object.keys(bundle.policies[p]!.index[kind]?.byValue ?? {})) values.add(v);
  }
  const collect = (value: string | undefined): RuleSet => {
    const rules: CompiledRule[] = [];
    for (const p of policies) {
      for (const r of ruleIndexes(bundle.policies[p]!, kind, value)) rules.push(compiled[p]![r]!);
    }
    return {
      deny: rules.filter((r) => r.effect === "deny"),
      review: rules.filter((r) => r.effect === "review"),
      allow: rules.filter((r) => r.effect === "allow"),
    };
  };
  const byValue = new Map<string, RuleSet>();
  for (const v of values) byValue.set(v, collect(v));
  return { kind, discriminant: DISCRIMINANT[kind], discriminantSlot: vocabularySlot(DISCRIMINANT[kind]), byValue, any: collect(undefined) };
}

/** The policy's rules for one discriminant value (or for any value), in source order. */
function ruleIndexes(policy: BundlePolicy, kind: ConnectionKind, value: string | undefined): number[] {
  const index = policy.index[kind];
  if (index === undefined) return [];
  const pinned = value === undefined ? [] : (index.byValue[value] ?? []);
  return [...pinned, ...index.any].sort((a, b) => a - b);
}

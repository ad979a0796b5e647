// The merged rule table of one policy set on one connection kind, built once per distinct set
// and shared by every session with that set. Rules are grouped by discriminant value (each
// list already holds the policies' `any` rules) and split by effect, so a statement costs one
// map lookup and a scan of the deny list, then reviews, then allows. Within a list, rules that
// can only match when a set attribute holds one of their values (`sql.tables has_any ["t"]`
// as a conjunct) are indexed by those values, so a statement visits only the rules of the
// tables it names.

import type { Bundle, BundlePolicy, BundleRule, Cond, Effect } from "../bundle/format.js";
import type { ConnectionKind } from "../schema/attributes.js";
import { ATTRIBUTE_BY_NAME, DISCRIMINANT } from "../schema/attributes.js";
import { compileCond, type Predicate } from "./cond.js";
import { vocabularySlot, type AttributeSlots } from "./slots.js";

export interface CompiledRule {
  /** position in source order across the bundle (policy, then rule): merged lists keep it */
  readonly order: number;
  /** the set attribute and values the rule needs one of, when a conjunct says so */
  readonly pin: { readonly attr: string; readonly values: readonly unknown[] } | undefined;
  readonly id: string;
  readonly effect: Effect;
  readonly test: Predicate;
  readonly reason: string | undefined;
  readonly approvers: readonly string[];
  readonly timeoutMs: number | undefined;
  /** the statement's reason when this rule alone decides it */
  readonly alone: string;
}

export interface RuleList {
  /** rules checked for every statement, in source order */
  readonly scan: readonly CompiledRule[];
  /** slot of the set attribute `byElement` is keyed by; -1 when the list is not indexed */
  readonly slot: number;
  /** set element → the rules pinned to it (a rule pinned to several values is under each) */
  readonly byElement: ReadonlyMap<unknown, readonly CompiledRule[]>;
}

export interface RuleSet {
  readonly deny: RuleList;
  readonly review: RuleList;
  readonly allow: RuleList;
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

/** below this many pinned rules a list is scanned: the index would not pay for itself */
const MIN_INDEXED = 8;

export function compileRule(rule: BundleRule, order: number, slots: AttributeSlots): CompiledRule {
  const approvers = rule.approvers ?? [];
  return {
    order,
    pin: setPin(rule.cond),
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
      deny: ruleList(rules.filter((r) => r.effect === "deny")),
      review: ruleList(rules.filter((r) => r.effect === "review")),
      allow: ruleList(rules.filter((r) => r.effect === "allow")),
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

/** A `has_any`/`has_all` conjunct on a set attribute: the rule cannot match without one of its values. */
function setPin(cond: Cond): CompiledRule["pin"] {
  for (const c of cond.op === "and" ? cond.args : [cond]) {
    if ((c.op === "has_any" || c.op === "has_all") && c.values.length > 0 && ATTRIBUTE_BY_NAME.get(c.attr)?.type.kind === "set") {
      // has_all needs every value, so its first one alone is a sound key
      return { attr: c.attr, values: c.op === "has_any" ? c.values : [c.values[0]] };
    }
  }
  return undefined;
}

/** Indexes the list by the set attribute most of its rules are pinned by. */
function ruleList(rules: readonly CompiledRule[]): RuleList {
  const counts = new Map<string, number>();
  for (const r of rules) if (r.pin) counts.set(r.pin.attr, (counts.get(r.pin.attr) ?? 0) + 1);
  let attr: string | undefined;
  for (const [a, n] of counts) if (n >= MIN_INDEXED && (attr === undefined || n > counts.get(attr)!)) attr = a;
  if (attr === undefined) return { scan: rules, slot: -1, byElement: new Map() };
  const byElement = new Map<unknown, CompiledRule[]>();
  const scan: CompiledRule[] = [];
  for (const r of rules) {
    if (r.pin?.attr !== attr) scan.push(r);
    else for (const v of new Set(r.pin.values)) (byElement.get(v) ?? byElement.set(v, []).get(v)!).push(r);
  }
  return { scan, slot: vocabularySlot(attr), byElement };
}

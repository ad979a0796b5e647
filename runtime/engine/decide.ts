// Per-statement decisions (DESIGN.md §2): every matching rule of the applicable policies; any
// deny wins, else any review, else any allow, else deny. A query's decision is its most
// restrictive statement's. The caller has written the statement's attributes into `record`.

import type { Effect } from "../bundle/format.js";
import type { SqlFacts } from "../facts/types.js";
import { setSqlStatement } from "./facts-record.js";
import type { CompiledRule, RuleList, RuleTable } from "./rule-table.js";
import type { AttributeRecord } from "./slots.js";
import type { Decision, StatementDecision } from "./types.js";

interface Outcome {
  effect: Effect;
  /** the matching rules behind `effect`; empty when nothing allowed (default deny) */
  rules: CompiledRule[];
  reason: string;
}

const SEVERITY: Record<Effect, number> = { allow: 0, review: 1, deny: 2 };

/** One lookup on the discriminant, then deny, review and allow rules in that order. */
function matchRules(table: RuleTable, record: AttributeRecord, connection: string): Outcome {
  const value = record[table.discriminantSlot];
  const set = (typeof value === "string" ? table.byValue.get(value) : undefined) ?? table.any;
  let rules = matching(set.deny, record);
  if (rules !== undefined) return { effect: "deny", rules, reason: denyReason(rules) };
  rules = matching(set.review, record);
  if (rules !== undefined) return { effect: "review", rules, reason: reviewReason(rules) };
  rules = matching(set.allow, record);
  if (rules !== undefined) return { effect: "allow", rules, reason: allowReason(rules) };
  return { effect: "deny", rules: [], reason: `no policy allows ${String(value)} on ${connection}` };
}

/** The list's matching rules in source order: the scanned ones, then those pinned to an element of the statement's set. */
function matching(list: RuleList, record: AttributeRecord): CompiledRule[] | undefined {
  let found: CompiledRule[] | undefined;
  for (const rule of list.scan) if (rule.test(record)) (found ??= []).push(rule);
  if (list.slot < 0) return found;
  const elements = record[list.slot];
  if (!Array.isArray(elements)) return found;
  let pinned = false;
  for (const element of elements) {
    const rules = list.byElement.get(element);
    if (rules === undefined) continue;
    for (const rule of rules) {
      if (found?.includes(rule) || !rule.test(record)) continue;
      (found ??= []).push(rule);
      pinned = true;
    }
  }
  if (pinned && found!.length > 1) found!.sort((a, b) => a.order - b.order);
  return found;
}

/** The whole query: each statement in order, then the most restrictive wins. */
export function decideSqlQuery(table: RuleTable, record: AttributeRecord, connection: string, facts: SqlFacts): Decision {
  if (!facts.ok) return refusal(facts.refused ? facts.error : `SQL does not parse: ${facts.error}`);
  const { statements } = facts;
  if (statements.length === 0) return refusal("empty query: there is no statement to allow");
  const outcomes: Outcome[] = [];
  const decisions: StatementDecision[] = [];
  for (const statement of statements) {
    setSqlStatement(record, statement, statements.length);
    const outcome = matchRules(table, record, connection);
    outcomes.push(outcome);
    const decision: StatementDecision = {
      command: statement.command,
      tables: statement.tables,
      functions: statement.functions,
      effect: outcome.effect,
      rules: outcome.rules.map((r) => r.id),
      reason: outcome.reason,
    };
    if (statement.copy !== undefined) decision.copy = statement.copy;
    if (statement.indirect !== undefined) decision.indirect = statement.indirect;
    if (statement.stores !== undefined) decision.stores = statement.stores;
    if (statement.sessionNames !== undefined) decision.sessionNames = statement.sessionNames;
    if (statement.rebinds !== undefined) decision.rebinds = true;
    if (statement.definesCode !== undefined) decision.definesCode = true;
    if (statement.executes !== undefined) decision.executes = statement.executes;
    if (statement.fetches !== undefined) decision.fetches = statement.fetches;
    decisions.push(decision);
  }
  return combine(outcomes, decisions);
}

/** A request decided as one unit (ssh, kubernetes): no statement list. */
export function decideRequest(table: RuleTable, record: AttributeRecord, connection: string): Decision {
  return combine([matchRules(table, record, connection)], []);
}

/** Denied before any rule is consulted (unparseable input, wrong connection kind). */
export function refusal(reason: string): Decision {
  return { effect: "deny", reason, rules: [], approvers: [], statements: [] };
}

function combine(outcomes: Outcome[], statements: StatementDecision[]): Decision {
  let worst = outcomes[0]!;
  for (const o of outcomes) if (SEVERITY[o.effect] > SEVERITY[worst.effect]) worst = o;
  const behind = outcomes.filter((o) => o.effect === worst.effect);
  const rules = uniqueRules(behind);
  const ids = rules.map((r) => r.id).sort();
  if (worst.effect !== "review") {
    return { effect: worst.effect, reason: worst.reason, rules: ids, approvers: [], statements };
  }
  let timeoutMs: number | undefined;
  const approvers = new Set<string>();
  for (const rule of rules) {
    for (const group of rule.approvers) approvers.add(group);
    if (rule.timeoutMs !== undefined && (timeoutMs === undefined || rule.timeoutMs < timeoutMs)) timeoutMs = rule.timeoutMs;
  }
  const decision: Decision = {
    effect: "review",
    reason: outcomes.length === 1 ? worst.reason : reviewReason(rules),
    rules: ids,
    approvers: [...approvers].sort(),
    reviewRules: rules.map((r) => ({ id: r.id, approvers: [...r.approvers] })),
    statements,
  };
  if (timeoutMs !== undefined) decision.timeoutMs = timeoutMs;
  return decision;
}

function uniqueRules(outcomes: Outcome[]): CompiledRule[] {
  if (outcomes.length === 1) return outcomes[0]!.rules;
  const seen = new Set<CompiledRule>();
  for (const o of outcomes) for (const r of o.rules) seen.add(r);
  return [...seen];
}

function denyReason(rules: CompiledRule[]): string {
  const withReason = rules.find((r) => r.reason !== undefined);
  return withReason?.reason ?? rules[0]!.alone;
}

function reviewReason(rules: CompiledRule[]): string {
  if (rules.length === 1) return rules[0]!.alone;
  const unapprovable = rules.find((r) => r.approvers.length === 0);
  if (unapprovable !== undefined) return `approval required, but rule ${unapprovable.id} names no approvers`;
  const groups = [...new Set(rules.flatMap((r) => r.approvers))].sort();
  return `approval required by ${groups.join(", ")}`;
}

function allowReason(rules: CompiledRule[]): string {
  if (rules.length === 1) return rules[0]!.alone;
  return `allowed by ${rules.map((r) => r.id).join(", ")}`;
}

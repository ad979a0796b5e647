// One rule set written twice: as a hoopgate bundle (data, the shape the compiler emits) and as
// Cedar policies with the same meaning. `deny` → forbid, `allow` → permit, `review` → forbid
// annotated @review (Cedar has no review effect; which forbids determined the answer tells
// deny from review). Rules are spread over `policies` teams, one group each.

import { bundleDigest } from "../runtime/bundle/canonical.js";
import type { Bundle, BundlePolicy, BundleRule, Cond } from "../runtime/bundle/format.js";
import type { SqlCommand } from "../runtime/schema/attributes.js";

export const ISSUER = "https://idp.bench";
export const CONNECTION = "orders-db";

export interface RuleSet {
  bundle: Bundle;
  /** Cedar policy id (= hoopgate rule id) → policy text */
  cedar: Record<string, string>;
  /** the effect of each Cedar policy id: forbids are deny or review */
  effectOf: ReadonlyMap<string, BundleRule["effect"]>;
  /** statements of team 0, with every outcome represented */
  statements: string[];
}

const DESTRUCTIVE: SqlCommand[] = ["drop", "truncate", "alter"];
const ALLOWED: SqlCommand[] = ["select", "insert", "update", "delete"];

export function buildRuleSet(total: number, policies: number): RuleSet {
  const perPolicy = total / policies;
  const cedar: Record<string, string> = {};
  const effectOf = new Map<string, BundleRule["effect"]>();
  const built: BundlePolicy[] = [];
  const groups: Bundle["groups"] = {};
  for (let k = 0; k < policies; k++) {
    const team = `team-${k}`;
    groups[team] = { issuer: ISSUER, when: { op: "cmp", cmp: "==", attr: "claims.team", value: team } };
    const rules: BundleRule[] = [];
    for (let j = 0; j < perPolicy; j++) {
      const { rule, cedarText } = makeRule(team, k, j, perPolicy);
      rules.push(rule);
      cedar[rule.id] = cedarText;
      effectOf.set(rule.id, rule.effect);
    }
    built.push({ name: team, subjects: [team], connections: [CONNECTION], rules, index: { postgres: indexOf(rules) }, masks: [], limits: [], source: `${team}.hoop:1:1` });
  }
  const body = {
    format: "hoopgate.bundle/v1" as const,
    sources: [],
    connections: { [CONNECTION]: { kind: "postgres" as const, tags: ["prod"] } },
    groups,
    policies: built,
    byConnection: { [CONNECTION]: built.map((_, i) => i) },
  };
  return { bundle: { ...body, sha256: bundleDigest(body) }, cedar, effectOf, statements: statementsFor(perPolicy) };
}

/** Rule j of team k: 5% function denies, 5% destructive denies, 10% reviews, 80% grants. */
function makeRule(team: string, k: number, j: number, perPolicy: number): { rule: BundleRule; cedarText: string } {
  const scope = (actions: SqlCommand[]) =>
    `principal in Group::"${team}", action in [${actions.map((a) => `Action::"${a}"`).join(", ")}], resource == Connection::"${CONNECTION}"`;
  const table = `t${k}_${j}`;
  const base = { policy: team, source: `${team}.hoop:${j + 2}:3` };
  const tables: Cond = { op: "has_any", attr: "sql.tables", values: [table] };
  if (j < perPolicy * 0.05) {
    const fn = `fn${k}_${j}`;
    return {
      rule: { ...base, id: `${team}/deny#${j}`, effect: "deny", cond: { op: "has_any", attr: "sql.functions", values: [fn] } },
      cedarText: `forbid(principal in Group::"${team}", action, resource == Connection::"${CONNECTION}") when { context.functions.containsAny(["${fn}"]) };`,
    };
  }
  if (j < perPolicy * 0.1) {
    return {
      rule: { ...base, id: `${team}/deny#${j}`, effect: "deny", cond: { op: "and", args: [{ op: "in", attr: "sql.command", values: DESTRUCTIVE }, tables] }, reason: "schema changes go through migrations" },
      cedarText: `forbid(${scope(DESTRUCTIVE)}) when { context.tables.containsAny(["${table}"]) };`,
    };
  }
  if (j < perPolicy * 0.2) {
    const cond: Cond = { op: "and", args: [{ op: "in", attr: "sql.command", values: ["update", "delete"] }, { op: "not", arg: { op: "cmp", cmp: "==", attr: "sql.has_where", value: true } }, tables] };
    return {
      rule: { ...base, id: `${team}/review#${j}`, effect: "review", cond, approvers: [team], timeoutMs: 900_000 },
      cedarText: `@review("true") forbid(${scope(["update", "delete"])}) when { !context.has_where && context.tables.containsAny(["${table}"]) };`,
    };
  }
  const command = ALLOWED[j % ALLOWED.length]!;
  return {
    rule: { ...base, id: `${team}/allow#${j}`, effect: "allow", cond: { op: "and", args: [{ op: "in", attr: "sql.command", values: [command] }, tables] } },
    cedarText: `permit(${scope([command])}) when { context.tables.containsAny(["${table}"]) };`,
  };
}

function indexOf(rules: BundleRule[]): BundlePolicy["index"]["postgres"] {
  const byValue: Record<string, number[]> = {};
  const any: number[] = [];
  rules.forEach((rule, i) => {
    const head = rule.cond.op === "and" ? rule.cond.args[0]! : rule.cond;
    if (head.op === "in" && head.attr === "sql.command") for (const v of head.values) (byValue[String(v)] ??= []).push(i);
    else any.push(i);
  });
  return { attr: "sql.command", byValue, any };
}

/** Team 0's statements: grants early and late in their bucket, a review, denies, a default deny. */
function statementsFor(perPolicy: number): string[] {
  const firstGrant = Math.ceil(perPolicy * 0.2);
  const grant = (command: SqlCommand, fromEnd: boolean) => {
    for (let j = fromEnd ? perPolicy - 1 : firstGrant; fromEnd ? j >= firstGrant : j < perPolicy; j += fromEnd ? -1 : 1) {
      if (ALLOWED[j % ALLOWED.length] === command) return `t0_${j}`;
    }
    throw new Error(`no ${command} grant`);
  };
  const review = `t0_${Math.ceil(perPolicy * 0.1)}`;
  const destructive = `t0_${Math.ceil(perPolicy * 0.05)}`;
  return [
    `SELECT id, name FROM ${grant("select", true)} WHERE id = 1`,
    `SELECT count(*) FROM ${grant("select", false)}`,
    `INSERT INTO ${grant("insert", true)} (a, b) VALUES (1, 'x')`,
    `UPDATE ${grant("update", true)} SET a = a + 1 WHERE id = 7`,
    `DELETE FROM ${review}`,
    `DROP TABLE ${destructive}`,
    `SELECT fn0_0(id) FROM ${grant("select", true)}`,
    "SELECT * FROM not_granted",
  ];
}

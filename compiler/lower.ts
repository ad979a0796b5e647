// Lowers a checked program to the bundle (DESIGN.md §3): per policy, rules indexed by the
// discriminant of each connection kind it reaches; per connection, the policies that may apply.
// Output is deterministic: same sources, byte-identical bundle.

import { createHash } from "node:crypto";
import { bundleDigest } from "../runtime/bundle/canonical.js";
import { BUNDLE_FORMAT, type Bundle, type BundlePolicy, type Cond, type RuleIndex } from "../runtime/bundle/format.js";
import { DISCRIMINANT, type ConnectionKind } from "../runtime/schema/attributes.js";
import type { CheckedPolicy, Program } from "./program.js";

export function lowerProgram(program: Program, sources: ReadonlyMap<string, string>): Bundle {
  const policies = program.policies.map(lowerPolicy);
  const connections: Bundle["connections"] = {};
  const byConnection: Bundle["byConnection"] = {};
  for (const c of [...program.connections.values()].sort((a, b) => cmp(a.name, b.name))) {
    connections[c.name] = { kind: c.kind, tags: c.tags };
    byConnection[c.name] = policies.flatMap((p, i) => (p.connections.includes(c.name) ? [i] : []));
  }
  const groups: Bundle["groups"] = {};
  for (const g of [...program.groups.values()].sort((a, b) => cmp(a.name, b.name))) {
    groups[g.name] = { issuer: g.issuer, when: g.when };
  }
  const body = {
    format: BUNDLE_FORMAT,
    sources: [...sources]
      .sort(([a], [b]) => cmp(a, b))
      .map(([path, text]) => ({ path, sha256: createHash("sha256").update(text).digest("hex") })),
    connections,
    groups,
    policies,
    byConnection,
  } as const;
  return { ...body, sha256: bundleDigest(body) };
}

function lowerPolicy(p: CheckedPolicy): BundlePolicy {
  const rules = p.rules.map(({ span: _span, ...r }) => r);
  const index: BundlePolicy["index"] = {};
  for (const kind of p.kinds) index[kind] = buildIndex(rules.map((r) => r.cond), kind);
  return {
    name: p.name,
    ...(p.description !== undefined ? { description: p.description } : {}),
    subjects: p.subjects,
    connections: p.connections,
    rules,
    index,
    masks: p.masks.map(({ span: _span, ...m }) => m),
    limits: p.limits.map(({ span: _span, ...l }) => l),
    source: p.source,
  };
}

function buildIndex(conds: Cond[], kind: ConnectionKind): RuleIndex {
  const attr = DISCRIMINANT[kind];
  const byValue: Record<string, number[]> = {};
  const any: number[] = [];
  conds.forEach((cond, i) => {
    const values = pinnedValues(cond, attr);
    if (!values) any.push(i);
    else for (const v of [...values].sort()) (byValue[v] ??= []).push(i);
  });
  return { attr, byValue, any };
}

/**
 * The discriminant values a condition can only match under, or undefined when it may match
 * any value. Sound: a rule is never left out of a bucket it could match in.
 */
export function pinnedValues(cond: Cond, attr: string): Set<string> | undefined {
  switch (cond.op) {
    case "cmp":
      return cond.attr === attr && cond.cmp === "==" ? new Set([String(cond.value)]) : undefined;
    case "in":
      return cond.attr === attr ? new Set(cond.values.map(String)) : undefined;
    case "and": {
      let acc: Set<string> | undefined;
      for (const arg of cond.args) {
        const p = pinnedValues(arg, attr);
        if (p) acc = acc ? new Set([...acc].filter((v) => p.has(v))) : p;
      }
      return acc;
    }
    case "or": {
      const acc = new Set<string>();
      for (const arg of cond.args) {
        const p = pinnedValues(arg, attr);
        if (!p) return undefined;
        p.forEach((v) => acc.add(v));
      }
      return acc;
    }
    default:
      return undefined;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

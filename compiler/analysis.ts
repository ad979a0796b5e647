// Warnings about policies that check but probably do not do what their author meant.

import type { Cond } from "../runtime/bundle/format.js";
import { Code } from "./codes.js";
import type { Program } from "./program.js";
import { Reporter } from "./report.js";

export function analyzeProgram(program: Program, rep: Reporter): void {
  const used = new Set<string>();
  for (const p of program.policies) {
    p.subjects.forEach((g) => used.add(g));
    p.rules.forEach((r) => r.approvers?.forEach((g) => used.add(g)));
    if (p.connections.length === 0) {
      rep.warn(Code.PolicyMatchesNothing, p.span, `policy \`${p.name}\` matches no declared connection`, {
        help: "check the tags in `connections`: no connection carries them",
      });
    }
    const leaves = new Map(p.rules.map((r) => [r, conjuncts(r.cond)]));
    for (const deny of p.rules.filter((r) => r.effect === "deny")) {
      for (const r of p.rules) {
        if (r.effect !== "deny" && implies(leaves.get(r)!, leaves.get(deny)!)) {
          rep.warn(Code.ShadowedRule, r.span, `this ${r.effect} rule never takes effect: everything it matches is denied by \`${deny.id}\``, {
            related: [{ message: "the deny rule", span: deny.span }],
          });
        }
      }
    }
  }
  for (const g of program.groups.values()) {
    if (!used.has(g.name)) rep.warn(Code.UnusedGroup, g.span, `group \`${g.name}\` is not used by any policy`);
  }
}

interface Leaf {
  cond: Cond;
  key: string;
}

/**
 * Sound but incomplete: true only when every fact matching the premises (a conjunction)
 * also matches every conclusion leaf.
 */
function implies(premises: readonly Leaf[], conclusions: readonly Leaf[]): boolean {
  return conclusions.every((leaf) => premises.some((p) => leafImplies(p, leaf)));
}

function conjuncts(c: Cond): Leaf[] {
  const list = c.op === "true" ? [] : c.op === "and" ? c.args : [c];
  return list.map((cond) => ({ cond, key: JSON.stringify(cond) }));
}

function leafImplies(pl: Leaf, ql: Leaf): boolean {
  if (pl.key === ql.key) return true;
  const [p, q] = [pl.cond, ql.cond];
  if (!("attr" in p) || !("attr" in q) || p.attr !== q.attr) return false;
  const within = (xs: readonly unknown[], ys: readonly unknown[]) => xs.every((x) => ys.includes(x));
  if (q.op === "in") {
    if (p.op === "in") return within(p.values, q.values);
    if (p.op === "cmp" && p.cmp === "==") return q.values.includes(p.value);
  }
  if (q.op === "has_any") {
    if (p.op === "has_any") return within(p.values, q.values);
    if (p.op === "has_all") return p.values.some((v) => q.values.includes(v));
  }
  if (q.op === "has_all" && p.op === "has_all") return within(q.values, p.values);
  return false;
}


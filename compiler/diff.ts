// Evaluates the same requests on two engines (base and head policy) and keeps the ones whose
// outcome changes: what a reviewer of a policy pull request needs to see.

import type { Engine } from "../runtime/engine/index.js";
import { explain, type Explanation, type ExplainRequest } from "./explain.js";

export interface DiffCase extends ExplainRequest {
  /** where the case came from: `test NAME` or `corpus.jsonl:LINE` */
  origin: string;
}

export interface DecisionChange extends DiffCase {
  base: Pick<Explanation, "effect" | "reason" | "rules">;
  head: Pick<Explanation, "effect" | "reason" | "rules">;
}

export async function decisionChanges(base: Engine, head: Engine, cases: readonly DiffCase[]) {
  const seen = new Set<string>();
  const changes: DecisionChange[] = [];
  let evaluated = 0;
  for (const c of cases) {
    const key = JSON.stringify([c.claims, c.connection, c.sql, c.ssh]);
    if (seen.has(key)) continue;
    seen.add(key);
    evaluated++;
    const [b, h] = [await explain(base, c), await explain(head, c)];
    if (b.effect !== h.effect) {
      changes.push({ ...c, base: { effect: b.effect, reason: b.reason, rules: b.rules }, head: { effect: h.effect, reason: h.reason, rules: h.rules } });
    }
  }
  return { evaluated, changes };
}

// One request (identity + connection + statement) through the runtime engine, shaped for
// `hoopgate explain` and `hoopgate diff` (DESIGN.md §4).

import type { MaskStrategy } from "../runtime/bundle/format.js";
import type { Engine } from "../runtime/engine/index.js";
import type { Decision } from "../runtime/engine/types.js";
import { identityOf } from "./test-runner.js";

export interface ExplainRequest {
  claims: Record<string, unknown>;
  connection: string;
  sql?: string;
  ssh?: string;
}

export interface Explanation {
  /** `refused`: no policy applies to this identity on this connection */
  effect: Decision["effect"] | "refused";
  reason: string;
  rules: string[];
  approvers: string[];
  statements: { command: string; tables: string[]; functions: string[]; effect: string; rules: string[] }[];
  masks: ({ column: string; with: string } | { detect: string; with: string })[];
}

export async function explain(engine: Engine, req: ExplainRequest): Promise<Explanation> {
  const opened = engine.openSession(identityOf(req.claims), req.connection);
  if (!opened.ok) return { effect: "refused", reason: opened.reason, rules: [], approvers: [], statements: [], masks: [] };
  const s = opened.session;
  const decision = req.ssh !== undefined ? await s.decideSsh({ kind: "exec", command: req.ssh }) : s.decideSql(req.sql ?? "");
  return {
    effect: decision.effect,
    reason: decision.reason,
    rules: decision.rules,
    approvers: decision.approvers,
    statements: decision.statements.map(({ command, tables, functions, effect, rules }) => ({ command, tables, functions, effect, rules })),
    masks: [
      ...[...s.masks.columns].map(([column, st]) => ({ column, with: strategyText(st) })),
      ...[...s.masks.detectors].map(([detect, st]) => ({ detect, with: strategyText(st) })),
    ],
  };
}

export function strategyText(s: MaskStrategy): string {
  return s.kind === "partial" ? `partial(${s.keep})` : s.kind;
}

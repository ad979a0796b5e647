// Decision engine vs Cedar on the same 1,000 rules: decideSql with cached SQL facts against
// cedar-wasm's statefulIsAuthorized over a preparsed policy set, same statements, same facts.
// Before timing, every statement's outcome is checked to be the same under both.

import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import type { Effect } from "../runtime/bundle/format.js";
import { loadEngine } from "../runtime/engine/index.js";
import { extractSqlFacts } from "../runtime/facts/sql/index.js";
import { buildRuleSet, CONNECTION, ISSUER, type RuleSet } from "./engine-rules.js";
import { formatNs, formatRate, measure, timerOverheadNs } from "./measure.js";
import type { BenchReport } from "./report.js";

const TOTAL_RULES = 1000;
const ENGINE_SAMPLES = 300_000;
/** cedar-wasm takes milliseconds per call on 1,000 policies (it is measured, not assumed) */
const CEDAR_SAMPLES = 400;

export async function benchEngine(): Promise<BenchReport> {
  const lines = [`timer overhead per sample (included below): ${formatNs(timerOverheadNs())}`];
  const figures: Record<string, number> = {};
  for (const policies of [10, 1]) {
    const set = buildRuleSet(TOTAL_RULES, policies);
    const { engineLatency, cedarLatency } = await compare(set, `bench-${policies}`);
    const perPolicy = TOTAL_RULES / policies;
    lines.push(
      `${TOTAL_RULES} rules in ${policies} ${policies === 1 ? "policy" : "policies"} (${perPolicy} apply to the session), ${set.statements.length} statements repeating:`,
      `  hoopgate decideSql  ${formatRate(engineLatency.perSecond).padStart(10)}  p50 ${formatNs(engineLatency.p50Ns)}  p99 ${formatNs(engineLatency.p99Ns)}  (${engineLatency.samples} samples)`,
      `  cedar-wasm 4.13     ${formatRate(cedarLatency.perSecond).padStart(10)}  p50 ${formatNs(cedarLatency.p50Ns)}  p99 ${formatNs(cedarLatency.p99Ns)}  (${cedarLatency.samples} samples)`,
      `  ratio: ${(engineLatency.perSecond / cedarLatency.perSecond).toFixed(1)}× Cedar's throughput, p50 ${(cedarLatency.p50Ns / engineLatency.p50Ns).toFixed(1)}× lower`,
    );
    Object.assign(figures, {
      [`engine_${policies}p_per_second`]: engineLatency.perSecond,
      [`engine_${policies}p_p50_ns`]: engineLatency.p50Ns,
      [`engine_${policies}p_p99_ns`]: engineLatency.p99Ns,
      [`cedar_${policies}p_per_second`]: cedarLatency.perSecond,
      [`cedar_${policies}p_p50_ns`]: cedarLatency.p50Ns,
      [`cedar_${policies}p_p99_ns`]: cedarLatency.p99Ns,
      [`ratio_${policies}p`]: engineLatency.perSecond / cedarLatency.perSecond,
    });
  }
  return { name: "decision engine vs Cedar", lines, figures };
}

async function compare(set: RuleSet, policySetId: string) {
  const engine = await loadEngine(set.bundle);
  const identity = { issuer: ISSUER, subject: "ci", claims: { iss: ISSUER, sub: "ci", team: "team-0" } };
  const opened = engine.openSession(identity, CONNECTION);
  if (!opened.ok) throw new Error(`bench: ${opened.reason}`);
  const session = opened.session;

  const parsed = cedar.preparsePolicySet(policySetId, { staticPolicies: set.cedar });
  if (parsed.type !== "success") throw new Error(`bench: Cedar policies: ${parsed.errors.map((e) => e.message).join("; ")}`);
  const entities: cedar.EntityJson[] = [
    { uid: { type: "User", id: "ci" }, attrs: {}, parents: [{ type: "Group", id: "team-0" }] },
    { uid: { type: "Group", id: "team-0" }, attrs: {}, parents: [] },
  ];
  const calls = set.statements.map((text): cedar.StatefulAuthorizationCall => {
    const facts = extractSqlFacts(text);
    if (!facts.ok || facts.statements.length !== 1) throw new Error(`bench: ${text} is not one statement`);
    const [s] = facts.statements as [(typeof facts.statements)[0]];
    return {
      principal: { type: "User", id: "ci" },
      action: { type: "Action", id: s.command },
      resource: { type: "Connection", id: CONNECTION },
      context: { tables: [...s.tables], functions: [...s.functions], has_where: s.hasWhere },
      preparsedPolicySetId: policySetId,
      entities,
    };
  });

  set.statements.forEach((text, i) => {
    const ours = session.decideSql(text).effect;
    const theirs = cedarEffect(cedar.statefulIsAuthorized(calls[i]!), set);
    if (ours !== theirs) throw new Error(`bench: "${text}" is ${ours} here but ${theirs} under Cedar`);
  });
  const effects = new Set(set.statements.map((t) => session.decideSql(t).effect));
  if (effects.size !== 3) throw new Error("bench: the statements must cover allow, review and deny");

  const texts = set.statements;
  const engineLatency = measure((i) => session.decideSql(texts[i % texts.length]!), { warmup: 100_000, samples: ENGINE_SAMPLES });
  const cedarLatency = measure((i) => cedar.statefulIsAuthorized(calls[i % calls.length]!), { warmup: 40, samples: CEDAR_SAMPLES });
  return { engineLatency, cedarLatency };
}

/** Cedar's answer in hoopgate's terms: a determining @review forbid alone means review. */
function cedarEffect(answer: cedar.AuthorizationAnswer, set: RuleSet): Effect {
  if (answer.type !== "success") throw new Error(`bench: Cedar failed: ${answer.errors.map((e) => e.message).join("; ")}`);
  const { decision, diagnostics } = answer.response;
  if (diagnostics.errors.length > 0) throw new Error(`bench: Cedar policy errors: ${JSON.stringify(diagnostics.errors[0])}`);
  if (decision === "allow") return "allow";
  const forbids = diagnostics.reason.map((id) => set.effectOf.get(id));
  return forbids.length > 0 && forbids.every((e) => e === "review") ? "review" : "deny";
}

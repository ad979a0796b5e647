// Runs the `test` blocks of a program against its bundle with the runtime's own decision
// engine: what a policy test says is exactly what the gateway will do.

import type { Diagnostic } from "../dsl/diagnostic.js";
import type { Bundle } from "../runtime/bundle/format.js";
import type { Engine } from "../runtime/engine/index.js";
import { loadEngine } from "../runtime/engine/index.js";
import type { Identity } from "../runtime/facts/types.js";
import { Code } from "./codes.js";
import type { CheckedExpectation, CheckedTest, Program } from "./program.js";

export interface CaseResult {
  test: string;
  /** the expectation as written, e.g. `deny sql "DROP TABLE users"` */
  title: string;
  file: string;
  line: number;
  column: number;
  passed: boolean;
  expected: string;
  actual: string;
  /** rule ids behind the actual outcome */
  rules: string[];
  reason: string;
}

export interface RuleCoverage {
  id: string;
  source: string;
  covered: boolean;
}

export interface TestReport {
  passed: number;
  failed: number;
  cases: CaseResult[];
  coverage: RuleCoverage[];
  /** HG3004 for test blocks that exercised no rule */
  warnings: Diagnostic[];
}

export async function runProgramTests(program: Program, bundle: Bundle): Promise<TestReport> {
  const engine = await loadEngine(bundle);
  const cases: CaseResult[] = [];
  const warnings: Diagnostic[] = [];
  for (const test of program.tests) {
    const mine: CaseResult[] = [];
    for (const exp of test.expectations) mine.push(await runExpectation(engine, test, exp));
    // A test made only of `expect refused` checks group predicates, not rules: that is coverage too.
    if (test.expectations.some((e) => e.kind !== "refused") && mine.every((c) => c.rules.length === 0)) {
      warnings.push({ code: Code.TestCoversNothing, severity: "warning", message: `test \`${test.name}\` exercises no rule: every outcome comes from refusal or the default deny`, span: test.span });
    }
    cases.push(...mine);
  }
  const hit = new Set(cases.flatMap((c) => c.rules));
  const coverage = bundle.policies.flatMap((p) =>
    [...p.rules, ...p.masks, ...p.limits].map((r) => ({ id: r.id, source: r.source, covered: hit.has(r.id) })),
  );
  const failed = cases.filter((c) => !c.passed).length;
  return { passed: cases.length - failed, failed, cases, coverage, warnings };
}

export function identityOf(claims: Record<string, unknown>): Identity {
  return { issuer: String(claims.iss), subject: String(claims.sub), claims };
}

async function runExpectation(engine: Engine, test: CheckedTest, exp: CheckedExpectation): Promise<CaseResult> {
  const base = {
    test: test.name,
    title: titleOf(exp),
    file: exp.span.file,
    line: exp.span.start.line,
    column: exp.span.start.column,
  };
  const opened = engine.openSession(identityOf(test.claims), exp.connection);
  if (exp.kind === "refused") {
    return opened.ok
      ? { ...base, passed: false, expected: "refused", actual: `session opened (policies: ${opened.session.policies.join(", ")})`, rules: [], reason: "" }
      : { ...base, passed: true, expected: "refused", actual: "refused", rules: [], reason: opened.reason };
  }
  if (!opened.ok) {
    return { ...base, passed: false, expected: exp.kind === "decision" ? exp.effect : "masked", actual: "refused", rules: [], reason: opened.reason };
  }
  const session = opened.session;
  if (exp.kind === "masked") {
    const missing = exp.columns.filter((c) => !session.masks.columns.has(c));
    const ids = engineMaskIds(engine.bundle, session.policies, exp.columns);
    return {
      ...base,
      passed: missing.length === 0,
      expected: `masked ${exp.columns.join(", ")}`,
      actual: missing.length === 0 ? "masked" : `not masked: ${missing.join(", ")}`,
      rules: ids,
      reason: "",
    };
  }
  const decision = exp.protocol === "sql" ? session.decideSql(exp.input) : await session.decideSsh({ kind: "exec", command: exp.input });
  return {
    ...base,
    passed: decision.effect === exp.effect,
    expected: exp.effect,
    actual: decision.effect,
    rules: decision.rules,
    reason: decision.reason,
  };
}

/** The mask rules of the session's policies that name one of the columns (for coverage). */
function engineMaskIds(bundle: Bundle, policies: readonly string[], columns: readonly string[]): string[] {
  return bundle.policies
    .filter((p) => policies.includes(p.name))
    .flatMap((p) => p.masks.filter((m) => m.columns.some((c) => columns.includes(c))).map((m) => m.id));
}

function titleOf(exp: CheckedExpectation): string {
  const on = ` on connection.${exp.connection}`;
  switch (exp.kind) {
    case "decision":
      return `${exp.effect} ${exp.protocol} ${JSON.stringify(exp.input)}${on}`;
    case "masked":
      return `masked columns [${exp.columns.map((c) => JSON.stringify(c)).join(", ")}]${on}`;
    case "refused":
      return `refused${on}`;
  }
}

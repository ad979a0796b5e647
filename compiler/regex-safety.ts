// `matches` regexes must run in linear time: a gateway evaluating attacker-influenced text
// (sql.text, ssh.command) cannot afford catastrophic backtracking. recheck is a real ReDoS
// checker (automaton and fuzzing based); anything it does not call safe is rejected.

import { checkSync } from "recheck";
import type { StringLit } from "../dsl/ast.js";
import { Code } from "./codes.js";
import { Reporter } from "./report.js";

export function checkRegex(lit: StringLit, rep: Reporter): boolean {
  try {
    new RegExp(lit.value, "u");
  } catch (err) {
    rep.error(Code.InvalidRegex, lit.span, `invalid regular expression: ${(err as Error).message}`);
    return false;
  }
  const result = checkSync(lit.value, "u", { timeout: 2000 });
  if (result.status === "safe") return true;
  const why =
    result.status === "vulnerable"
      ? `it can backtrack catastrophically (${result.complexity.type} complexity, e.g. on ${JSON.stringify(result.attack.string.slice(0, 40))})`
      : `the ReDoS checker could not prove it safe (${result.error.kind})`;
  rep.error(Code.UnsafeRegex, lit.span, `unsafe regular expression: ${why}`, {
    help: "avoid nested or overlapping quantifiers such as (a+)+ or (a|a)*; prefer `like` for simple globs",
  });
  return false;
}

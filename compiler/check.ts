// Name resolution and checking across all files: declarations are global to the compiled
// set of files, so a policy may use a group declared in another file.

import type { Ident, SourceFile, Span } from "../dsl/ast.js";
import { Code } from "./codes.js";
import { checkConnection, checkGroup } from "./declarations.js";
import { checkPolicy, type Names } from "./policies.js";
import type { CheckedConnection, CheckedGroup, Program } from "./program.js";
import { Reporter } from "./report.js";
import { checkTest } from "./tests-decl.js";

/** Returns the program when every declaration checked; diagnostics go to `rep` either way. */
export function checkProgram(files: readonly SourceFile[], rep: Reporter): Program | undefined {
  const items = files.flatMap((f) => f.items);
  for (const kind of ["connection", "group", "policy", "test"] as const) {
    reportDuplicates(items.filter((i) => i.kind === kind).map((i) => i.name), kind, rep);
  }
  const before = rep.diagnostics.length;

  const connections = new Map<string, CheckedConnection>();
  const groups = new Map<string, CheckedGroup>();
  let ok = true;
  for (const item of items) {
    if (item.kind === "connection") {
      const c = checkConnection(item, rep);
      if (c) connections.set(c.name, connections.get(c.name) ?? c);
      else ok = false;
    } else if (item.kind === "group") {
      const g = checkGroup(item, rep);
      if (g) groups.set(g.name, groups.get(g.name) ?? g);
      else ok = false;
    }
  }
  // Names declared with errors still resolve, so one typo does not cascade into many errors.
  const names: Names = {
    connections,
    groups: new Set(items.filter((i) => i.kind === "group").map((i) => i.name.name)),
  };
  const program: Program = { connections, groups, policies: [], tests: [] };
  for (const item of items) {
    if (item.kind === "policy") {
      const p = checkPolicy(item, names, rep);
      if (p) program.policies.push(p);
      else ok = false;
    } else if (item.kind === "test") {
      const t = checkTest(item, names, rep);
      if (t) program.tests.push(t);
      else ok = false;
    }
  }
  reportDuplicateRuleIds(program, rep);
  const clean = !rep.diagnostics.slice(before).some((d) => d.severity === "error");
  return ok && clean ? program : undefined;
}

function reportDuplicates(names: Ident[], kind: string, rep: Reporter): void {
  const seen = new Map<string, Ident>();
  for (const n of names) {
    const first = seen.get(n.name);
    if (first) {
      rep.error(Code.DuplicateName, n.span, `${kind} \`${n.name}\` is declared twice`, {
        related: [{ message: "first declared here", span: first.span }],
      });
    } else seen.set(n.name, n);
  }
}

function reportDuplicateRuleIds(program: Program, rep: Reporter): void {
  const seen = new Map<string, { span: Span }>();
  for (const p of program.policies) {
    for (const r of [...p.rules, ...p.masks, ...p.limits]) {
      const first = seen.get(r.id);
      if (first) {
        rep.error(Code.DuplicateName, r.span, `rule id \`${r.id}\` is used twice`, {
          related: [{ message: "first used here", span: first.span }],
        });
      } else seen.set(r.id, r);
    }
  }
}

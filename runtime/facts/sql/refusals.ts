// Statements the gateway never lets through, whatever the policy: those that would make the
// server read text or resolve names differently from the facts (lexer-settings.ts), and those
// that run SQL the facts cannot see (hidden-queries.ts). One walk over the whole tree, including
// what is stored for later (PREPARE, CREATE RULE, CREATE FUNCTION … BEGIN ATOMIC, CTEs), since
// what is stored runs later without being decided again.

import type { CallStmt, CopyStmt, FuncCall, Node, RangeVar } from "libpg-query";
import { isObject, kindOf, type JsonObject } from "./ast.js";
import { hiddenQueryProblem } from "./hidden-queries.js";
import { setConfigProblem, settingStatementProblem, settingsViewProblem, settingsWriteProblem } from "./lexer-settings.js";

/** Statements whose `relation` they write. */
const WRITES = new Set(["InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"]);

/** Why the statement may not run, or undefined. */
export function refusal(stmt: Node): string | undefined {
  return settingStatementProblem(stmt) ?? walk(stmt, false);
}

/** `inView`: inside the query of CREATE [OR REPLACE] VIEW */
function walk(value: unknown, inView: boolean): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = walk(item, inView);
      if (found) return found;
    }
    return undefined;
  }
  if (!isObject(value)) return undefined;
  const kind = kindOf(value);
  const body = kind === undefined ? value : value[kind];
  if (!isObject(body)) return undefined;
  const found = nodeProblem(kind, body, inView);
  if (found) return found;
  for (const key in body) {
    const child = walk(body[key], inView || (kind === "ViewStmt" && key === "query"));
    if (child) return child;
  }
  return undefined;
}

function nodeProblem(kind: string | undefined, body: JsonObject, inView: boolean): string | undefined {
  // A bare RangeVar (InsertStmt.relation …) has no wrapper; only RangeVar has `relname` in raw trees.
  if (kind === "RangeVar" || (kind === undefined && typeof body.relname === "string")) {
    return inView ? settingsViewProblem(body as RangeVar) : undefined;
  }
  // CALL holds its FuncCall bare
  const call = kind === "FuncCall" ? (body as FuncCall) : kind === "CallStmt" ? (body as CallStmt).funccall : undefined;
  if (call) return setConfigProblem(call) ?? hiddenQueryProblem(call);
  if (kind !== undefined && WRITES.has(kind)) return settingsWriteProblem(body.relation as RangeVar | undefined);
  if (kind === "CopyStmt" && (body as CopyStmt).is_from) return settingsWriteProblem((body as CopyStmt).relation);
  return undefined;
}

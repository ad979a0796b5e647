// Statements the gateway never lets through, whatever the policy: those that would make the
// server read text or resolve names differently from the facts (lexer-settings.ts), those
// that run SQL the facts cannot see (hidden-queries.ts) — called, or named in DDL that makes the
// server call them later (named-functions.ts) — and those reading a table's values under its
// TOAST relation's name (toast.ts). One walk over the whole tree, including what is stored for
// later (PREPARE, CREATE RULE, CREATE FUNCTION … BEGIN ATOMIC, CTEs), since what is stored runs
// later without being decided again.

import type { CallStmt, CopyStmt, FuncCall, Node, RangeVar } from "libpg-query";
import { isObject, kindOf, type JsonObject } from "./ast.js";
import { hiddenQueryProblem } from "./hidden-queries.js";
import { setConfigProblem, settingStatementProblem, settingsViewProblem, settingsWriteProblem } from "./lexer-settings.js";
import { namedFunctionProblem } from "./named-functions.js";
import { toastRelationProblem } from "./toast.js";

/** Statements whose `relation` they write. */
const WRITES = new Set(["InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"]);

/** Where a relation is named: in the query of CREATE [OR REPLACE] VIEW, anywhere in CREATE RULE, elsewhere. */
type Within = "view" | "rule" | undefined;

/** Why the statement may not run, or undefined. */
export function refusal(stmt: Node): string | undefined {
  return settingStatementProblem(stmt) ?? walk(stmt, undefined);
}

function walk(value: unknown, within: Within): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = walk(item, within);
      if (found) return found;
    }
    return undefined;
  }
  if (!isObject(value)) return undefined;
  const kind = kindOf(value);
  const body = kind === undefined ? value : value[kind];
  if (!isObject(body)) return undefined;
  const found = nodeProblem(kind, body, within);
  if (found) return found;
  const inner: Within = kind === "RuleStmt" ? "rule" : within;
  for (const key in body) {
    const child = walk(body[key], inner ?? (kind === "ViewStmt" && key === "query" ? "view" : undefined));
    if (child) return child;
  }
  return undefined;
}

function nodeProblem(kind: string | undefined, body: JsonObject, within: Within): string | undefined {
  // A bare RangeVar (InsertStmt.relation …) has no wrapper; only RangeVar has `relname` in raw trees.
  if (kind === "RangeVar" || (kind === undefined && typeof body.relname === "string")) {
    const relation = body as RangeVar;
    return toastRelationProblem(relation)
      ?? (within === undefined ? undefined : settingsViewProblem(relation, within));
  }
  // CALL holds its FuncCall bare
  const call = kind === "FuncCall" ? (body as FuncCall) : kind === "CallStmt" ? (body as CallStmt).funccall : undefined;
  if (call) return setConfigProblem(call) ?? hiddenQueryProblem(call);
  if (kind === undefined) return undefined;
  if (WRITES.has(kind)) return settingsWriteProblem(body.relation as RangeVar | undefined);
  if (kind === "CopyStmt" && (body as CopyStmt).is_from) return settingsWriteProblem((body as CopyStmt).relation);
  return namedFunctionProblem(kind, body);
}

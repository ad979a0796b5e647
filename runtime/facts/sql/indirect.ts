// Code a statement runs without calling a function by name: operators (written, or implied by
// BETWEEN, IN (subquery) and CASE x WHEN) and casts, whose functions may be user-defined. Read on
// collect.ts's walk; the proxy's catalog judges the names (docs/masking.md).

import type { A_Expr, A_Expr_Kind, A_Indirection, CaseExpr, ColumnRef, Node, SortBy, SubLink, TypeCast } from "libpg-query";
import { nameParts, nodeAs, type JsonObject } from "./ast.js";
import { qualifiedNames } from "./names.js";

/** BETWEEN is expanded by the server into comparisons; its name in the tree is a keyword. */
const IMPLIED: Partial<Record<A_Expr_Kind, readonly string[]>> = {
  AEXPR_BETWEEN: [">=", "<="],
  AEXPR_BETWEEN_SYM: [">=", "<="],
  AEXPR_NOT_BETWEEN: ["<", ">"],
  AEXPR_NOT_BETWEEN_SYM: ["<", ">"],
};

/** Adds the operators a node of `kind` applies. */
export function addOperators(kind: string, body: JsonObject, out: Set<string>): void {
  switch (kind) {
    case "A_Expr": {
      const expr = body as A_Expr;
      const implied = expr.kind === undefined ? undefined : IMPLIED[expr.kind];
      if (implied !== undefined) for (const op of implied) out.add(op);
      else addNamed(expr.name, out);
      return;
    }
    case "SubLink": {
      const link = body as SubLink;
      // `x IN (SELECT …)` has no operator name: it is `= ANY`
      if (link.operName !== undefined) addNamed(link.operName, out);
      else if (link.subLinkType === "ANY_SUBLINK") out.add("=");
      return;
    }
    case "SortBy":
      addNamed((body as SortBy).useOp, out);
      return;
    case "CaseExpr":
      if ((body as CaseExpr).arg !== undefined) out.add("=");
      return;
  }
}

/**
 * Adds the names a column reference may call as a function: `t.f` and `(t).f` run `f(t)` when
 * `t` has no column `f` (attribute notation, PostgREST's computed columns), with no call in the
 * text. The last field of a qualified reference; the proxy's catalog tells which are functions.
 */
export function addAttributes(kind: string, body: JsonObject, out: Set<string>): void {
  if (kind === "ColumnRef") {
    const fields = (body as ColumnRef).fields ?? [];
    const last = fields.length >= 2 ? nodeAs(fields[fields.length - 1], "String")?.sval : undefined;
    if (last !== undefined) out.add(last);
  } else if (kind === "A_Indirection") {
    for (const step of (body as A_Indirection).indirection ?? []) {
      const name = nodeAs(step, "String")?.sval;
      if (name !== undefined) out.add(name);
    }
  }
}

/** Adds the target type of a cast node. */
export function addCast(kind: string, body: JsonObject, out: Set<string>): void {
  if (kind !== "TypeCast") return;
  for (const name of qualifiedNames(nameParts((body as TypeCast).typeName?.names) ?? [])) out.add(name);
}

function addNamed(name: readonly Node[] | undefined, out: Set<string>): void {
  for (const op of qualifiedNames(nameParts(name) ?? [])) out.add(op);
}

// The facts are only right if the server lexes the text as this parser does: UTF-8 and
// `standard_conforming_strings = on`. A client that changed either could send text that is
// one harmless statement here and several to the server (`SELECT 'a\'; DROP TABLE t; --'`, or
// a multibyte client encoding whose trailing byte is a backslash). So a statement that changes
// them is refused; the proxy also refuses such startups and ends a session whose server
// reports another value (runtime/postgres).

import type { Node } from "libpg-query";
import { isObject, nameParts, nodeAs } from "./ast.js";

const GUARDED = new Set(["standard_conforming_strings", "client_encoding"]);

/** Why the statement may not run, or undefined when it leaves the lexer settings alone. */
export function lexerSettingChange(stmt: Node): string | undefined {
  const set = nodeAs(stmt, "VariableSetStmt") ?? nodeAs(stmt, "AlterSystemStmt")?.setstmt;
  if (set?.name !== undefined && GUARDED.has(set.name.toLowerCase()) && set.kind !== "VAR_RESET") {
    return `changing ${set.name} is not allowed through the gateway: it changes how the server reads statements`;
  }
  return setConfigCall(stmt);
}

/** `set_config(name, …)` anywhere in the tree, with a guarded or non-constant name. */
function setConfigCall(node: unknown): string | undefined {
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = setConfigCall(item);
      if (found) return found;
    }
    return undefined;
  }
  if (!isObject(node)) return undefined;
  const call = nodeAs(node, "FuncCall");
  const parts = call && nameParts(call.funcname);
  if (parts && parts[parts.length - 1] === "set_config" && (parts.length === 1 || parts[0] === "pg_catalog")) {
    const name = call.args?.[0] && nodeAs(call.args[0], "A_Const")?.sval?.sval;
    if (name === undefined) return "set_config with a computed setting name is not allowed through the gateway";
    if (GUARDED.has(name.toLowerCase())) return `changing ${name} is not allowed through the gateway: it changes how the server reads statements`;
  }
  for (const key in node) {
    const found = setConfigCall(node[key]);
    if (found) return found;
  }
  return undefined;
}

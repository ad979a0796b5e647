// Typed access to the JSON AST that libpg-query returns: every node is wrapped as
// `{ Kind: body }`; some fields hold bare bodies (InsertStmt.relation is a bare RangeVar).

import type { Node } from "libpg-query";

type KeysOfUnion<T> = T extends unknown ? keyof T : never;
export type NodeKind = KeysOfUnion<Node>;
export type NodeBody<K extends NodeKind> = Extract<Node, Record<K, unknown>>[K];

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The kind of a wrapped node, or undefined for bare bodies and scalars. */
export function kindOf(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  const only = keys[0];
  return keys.length === 1 && only !== undefined && /^[A-Z]/.test(only) ? only : undefined;
}

/** The body of `node` when it is a wrapped node of `kind`. */
export function nodeAs<K extends NodeKind>(node: unknown, kind: K): NodeBody<K> | undefined {
  return isObject(node) && kindOf(node) === kind ? (node[kind] as NodeBody<K>) : undefined;
}

/** The string values of a list of `String` nodes (a qualified name); undefined if any is not one. */
export function nameParts(nodes: readonly Node[] | undefined): string[] | undefined {
  if (!nodes) return undefined;
  const parts: string[] = [];
  for (const n of nodes) {
    const s = nodeAs(n, "String")?.sval;
    if (s === undefined) return undefined;
    parts.push(s);
  }
  return parts;
}

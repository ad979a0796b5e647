// Expressions in canonical one-line form: one space around binary operators, parentheses
// only where precedence needs them, strings re-escaped, objects as `{ k = v, ... }`.

import type { Attribute, Expr } from "./ast.js";

// Binding strength, loosest first; comparisons take primaries as operands and do not chain.
const OR = 1;
const AND = 2;
const NOT = 3;
const COMPARISON = 4;
const PRIMARY = 5;

function precedence(e: Expr): number {
  switch (e.kind) {
    case "binary":
      return e.op === "or" ? OR : e.op === "and" ? AND : COMPARISON;
    case "not":
      return NOT;
    default:
      return PRIMARY;
  }
}

function operand(e: Expr, least: number): string {
  const s = formatExpr(e);
  return precedence(e) < least ? `(${s})` : s;
}

export function formatExpr(e: Expr): string {
  switch (e.kind) {
    case "string":
      return formatString(e.value);
    case "number":
      return e.raw;
    case "bool":
      return String(e.value);
    case "duration":
      return `${e.amount}${e.unit}`;
    case "list":
      return `[${e.items.map(formatExpr).join(", ")}]`;
    case "object":
      return formatObjectInline(e.entries);
    case "ref":
      return e.segments.map((s) => s.name).join(".");
    case "call":
      return `${e.callee.name}(${e.args.map(formatExpr).join(", ")})`;
    case "not":
      return `not ${operand(e.operand, NOT)}`;
    case "binary": {
      const level = precedence(e);
      // `and`/`or` associate to the left; a comparison's operands are primaries.
      const left = operand(e.left, level === COMPARISON ? PRIMARY : level);
      const right = operand(e.right, level === COMPARISON ? PRIMARY : level + 1);
      return `${left} ${e.op} ${right}`;
    }
  }
}

export function formatAttributeInline(a: Attribute): string {
  return `${a.key.name} = ${formatExpr(a.value)}`;
}

export function formatObjectInline(entries: readonly Attribute[]): string {
  return entries.length === 0 ? "{}" : `{ ${entries.map(formatAttributeInline).join(", ")} }`;
}

const ESCAPES: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t" };

/** Quotes a string with the grammar's escapes; other control characters and lone surrogates as `\u{HEX}`. */
export function formatString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    const escape = ESCAPES[ch];
    if (escape !== undefined) out += escape;
    else if (code < 0x20 || code === 0x7f || (code >= 0xd800 && code <= 0xdfff)) out += `\\u{${code.toString(16)}}`;
    else out += ch;
  }
  return `${out}"`;
}

// Type-checks a condition expression against the attribute schema and lowers it to the
// bundle's Cond tree in the same walk. Errors are reported and yield `undefined`; the caller
// never emits a rule with a condition that failed to check.

import type { BinaryExpr, Expr, RefExpr } from "../dsl/ast.js";
import type { Cond, Scalar } from "../runtime/bundle/format.js";
import type { AttrSpec, AttrType } from "../runtime/schema/attributes.js";
import { resolveAttribute, type CondScope } from "./attributes.js";
import { Code } from "./codes.js";
import { checkRegex } from "./regex-safety.js";
import { didYouMean, Reporter } from "./report.js";
import { describe, refName } from "./values.js";

export function checkCondition(e: Expr, scope: CondScope, rep: Reporter): Cond | undefined {
  switch (e.kind) {
    case "bool":
      return e.value ? { op: "true" } : { op: "not", arg: { op: "true" } };
    case "not": {
      const arg = checkCondition(e.operand, scope, rep);
      return arg && { op: "not", arg };
    }
    case "ref":
      return checkBareAttribute(e, scope, rep);
    case "binary":
      return checkBinary(e, scope, rep);
    default:
      rep.error(Code.OperatorType, e.span, `expected a condition, found ${describe(e)}`);
      return undefined;
  }
}

function checkBareAttribute(e: RefExpr, scope: CondScope, rep: Reporter): Cond | undefined {
  if (e.segments.length === 1) {
    rep.error(Code.UnknownAttribute, e.span, `expected a condition, found the word \`${e.segments[0]!.name}\``, {
      help: "conditions compare an attribute, e.g. `sql.command == drop`",
    });
    return undefined;
  }
  const spec = resolveAttribute(e, scope, rep);
  if (!spec) return undefined;
  if (spec.type.kind === "bool" || spec.type.kind === "any") return { op: "cmp", cmp: "==", attr: spec.name, value: true };
  rep.error(Code.OperatorType, e.span, `\`${spec.name}\` is ${typeName(spec.type)}, not a boolean condition`, {
    help: `compare it, e.g. \`${spec.name} ${spec.type.kind === "set" ? 'has_any ["…"]' : "== …"}\``,
  });
  return undefined;
}

function checkBinary(e: BinaryExpr, scope: CondScope, rep: Reporter): Cond | undefined {
  if (e.op === "and" || e.op === "or") {
    const l = checkCondition(e.left, scope, rep);
    const r = checkCondition(e.right, scope, rep);
    if (!l || !r) return undefined;
    const args = [...(l.op === e.op ? (l as { args: Cond[] }).args : [l]), ...(r.op === e.op ? (r as { args: Cond[] }).args : [r])];
    return { op: e.op, args };
  }
  // `"dba" in claims.groups`: element in set
  if (e.op === "in" && e.right.kind === "ref" && e.right.segments.length > 1 && e.left.kind !== "ref") {
    const spec = resolveAttribute(e.right, scope, rep);
    if (!spec) return undefined;
    if (spec.type.kind !== "set" && spec.type.kind !== "any") {
      rep.error(Code.OperatorType, e.opSpan, `\`in\` needs a list or a set on its right; \`${spec.name}\` is ${typeName(spec.type)}`);
      return undefined;
    }
    const value = scalar(e.left, { kind: "string" }, rep);
    return value === undefined ? undefined : { op: "contains", attr: spec.name, value };
  }
  const attrSide = attributeSide(e, rep);
  if (!attrSide) return undefined;
  const { ref, other, flipped } = attrSide;
  const spec = resolveAttribute(ref, scope, rep);
  if (!spec) return undefined;
  const t = spec.type;
  switch (e.op) {
    case "==":
    case "!=": {
      if (t.kind === "set") return opError(e, spec, "use `has_any`, `has_all`, `within` or `\"x\" in " + spec.name + "`", rep);
      const value = scalar(other, t, rep);
      return value === undefined ? undefined : { op: "cmp", cmp: e.op, attr: spec.name, value };
    }
    case "<":
    case "<=":
    case ">":
    case ">=": {
      if (t.kind !== "number" && t.kind !== "any") return opError(e, spec, "ordering compares numbers", rep);
      const value = scalar(other, { kind: "number" }, rep);
      const cmp = flipped ? FLIP[e.op] : e.op;
      return value === undefined ? undefined : { op: "cmp", cmp, attr: spec.name, value };
    }
    case "in": {
      if (t.kind === "set") return opError(e, spec, `for sets use \`${spec.name} has_any [...]\``, rep);
      const values = list(other, t, rep);
      return values && { op: "in", attr: spec.name, values };
    }
    case "has_any":
    case "has_all":
    case "within": {
      if (t.kind !== "set" && t.kind !== "any") return opError(e, spec, `\`${e.op}\` compares a set with a list; for one value use \`in\``, rep);
      const values = list(other, { kind: "string" }, rep);
      return values && { op: e.op, attr: spec.name, values };
    }
    case "like": {
      if (t.kind !== "string" && t.kind !== "any") return opError(e, spec, "`like` matches strings", rep);
      if (other.kind !== "string") return valueError(other, "a glob string like \"refs/heads/*\"", rep);
      return { op: "like", attr: spec.name, pattern: other.value };
    }
    case "matches": {
      if (t.kind !== "string" && t.kind !== "any") return opError(e, spec, "`matches` matches strings", rep);
      if (other.kind !== "string") return valueError(other, "a regular expression string", rep);
      return checkRegex(other, rep) ? { op: "matches", attr: spec.name, regex: other.value } : undefined;
    }
  }
}

const FLIP = { "<": ">", "<=": ">=", ">": "<", ">=": "<=" } as const;

/** Finds which operand is the attribute: `attr OP literal`, or `literal OP attr` for symmetric/ordering ops. */
function attributeSide(e: BinaryExpr, rep: Reporter): { ref: RefExpr; other: Expr; flipped: boolean } | undefined {
  const isAttr = (x: Expr): x is RefExpr => x.kind === "ref" && x.segments.length > 1;
  if (isAttr(e.left)) return { ref: e.left, other: e.right, flipped: false };
  const swappable = ["==", "!=", "<", "<=", ">", ">="].includes(e.op);
  if (swappable && isAttr(e.right)) return { ref: e.right, other: e.left, flipped: true };
  rep.error(Code.OperatorType, e.left.span, `the left side of \`${e.op}\` must be an attribute such as \`sql.command\`, found ${describe(e.left)}`);
  return undefined;
}

function list(e: Expr, t: AttrType, rep: Reporter): Scalar[] | undefined {
  if (e.kind !== "list") return valueError(e, "a list [...]", rep);
  const out: Scalar[] = [];
  let ok = true;
  for (const item of e.items) {
    const v = scalar(item, t, rep);
    if (v === undefined) ok = false;
    else out.push(v);
  }
  return ok ? out : undefined;
}

/** A literal of the attribute's type; bare words only for enums. */
function scalar(e: Expr, t: AttrType, rep: Reporter): Scalar | undefined {
  if (t.kind === "enum") {
    const word = e.kind === "ref" && e.segments.length === 1 ? e.segments[0]!.name : e.kind === "string" ? e.value : undefined;
    if (word === undefined) return valueError(e, `one of ${t.values.join(" | ")}`, rep);
    if (t.values.includes(word)) return word;
    const hint = didYouMean(word, t.values);
    const listed = t.values.length <= 8 ? `; expected one of ${t.values.join(", ")}` : "";
    rep.error(Code.UnknownEnumWord, e.span, `unknown value \`${word}\`${listed}`, {
      help: hint ?? `expected one of ${t.values.join(", ")}`,
    });
    return undefined;
  }
  switch (e.kind) {
    case "string":
      if (t.kind === "string" || t.kind === "set" || t.kind === "any") return e.value;
      break;
    case "number":
      if (t.kind === "number" || t.kind === "any") return e.value;
      break;
    case "bool":
      if (t.kind === "bool" || t.kind === "any") return e.value;
      break;
    case "ref":
      if (e.segments.length === 1) {
        rep.error(Code.ValueType, e.span, `bare word \`${e.segments[0]!.name}\` is only allowed for enum attributes`, {
          help: `quote it: "${e.segments[0]!.name}"`,
        });
        return undefined;
      }
      rep.error(Code.OperatorType, e.span, `comparing two attributes (\`${refName(e)}\`) is not supported; compare with a literal`);
      return undefined;
    default:
      break;
  }
  return valueError(e, typeName(t), rep);
}

function opError(e: BinaryExpr, spec: AttrSpec, help: string, rep: Reporter): undefined {
  rep.error(Code.OperatorType, e.opSpan, `\`${e.op}\` cannot be used on \`${spec.name}\`, which is ${typeName(spec.type)}`, { help });
  return undefined;
}

function valueError(e: Expr, expected: string, rep: Reporter): undefined {
  rep.error(Code.ValueType, e.span, `expected ${expected}, found ${describe(e)}`);
  return undefined;
}

export function typeName(t: AttrType): string {
  switch (t.kind) {
    case "enum": return "an enum";
    case "set": return "a set of strings";
    case "any": return "a claim";
    case "bool": return "a boolean";
    default: return `a ${t.kind}`;
  }
}

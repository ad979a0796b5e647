// Readers for attribute values in blocks: each checks the expression's shape and reports a
// located error instead of guessing.

import type { Attribute, Expr, Ident, RefExpr, Span } from "../dsl/ast.js";
import { Code } from "./codes.js";
import { didYouMean, Reporter } from "./report.js";

export type KeySpec = Record<string, "required" | "optional">;

/** Index a block's attributes by key: duplicates, unknown keys and missing required keys are errors. */
export function attributesOf(
  attrs: readonly Attribute[],
  spec: KeySpec,
  where: { what: string; span: Span },
  rep: Reporter,
): Map<string, Attribute> {
  const out = new Map<string, Attribute>();
  for (const a of attrs) {
    const key = a.key.name;
    if (!(key in spec)) {
      rep.error(Code.UnknownKey, a.key.span, `unknown key \`${key}\` in ${where.what}`, {
        help: didYouMean(key, Object.keys(spec)) ?? `allowed keys: ${Object.keys(spec).join(", ")}`,
      });
      continue;
    }
    const first = out.get(key);
    if (first) {
      rep.error(Code.DuplicateName, a.key.span, `\`${key}\` is set twice in ${where.what}`, {
        related: [{ message: "first set here", span: first.key.span }],
      });
      continue;
    }
    out.set(key, a);
  }
  for (const [key, need] of Object.entries(spec)) {
    if (need === "required" && !out.has(key)) {
      rep.error(Code.MissingKey, where.span, `${where.what} needs \`${key} = …\``);
    }
  }
  return out;
}

export function describe(e: Expr): string {
  switch (e.kind) {
    case "string": return "a string";
    case "number": return "a number";
    case "bool": return "a boolean";
    case "duration": return "a duration";
    case "list": return "a list";
    case "object": return "an object";
    case "ref": return e.segments.length === 1 ? `the word \`${e.segments[0]!.name}\`` : `\`${refName(e)}\``;
    case "call": return `a call to \`${e.callee.name}\``;
    case "binary":
    case "not": return "a condition";
  }
}

export function refName(e: RefExpr): string {
  return e.segments.map((s) => s.name).join(".");
}

export function readString(e: Expr, what: string, rep: Reporter): string | undefined {
  if (e.kind === "string") return e.value;
  rep.error(Code.ValueType, e.span, `${what} must be a string, found ${describe(e)}`);
  return undefined;
}

export function readStringList(e: Expr, what: string, rep: Reporter): string[] | undefined {
  if (e.kind !== "list") {
    rep.error(Code.ValueType, e.span, `${what} must be a list of strings, found ${describe(e)}`);
    return undefined;
  }
  const out: string[] = [];
  for (const item of e.items) {
    const s = readString(item, `each item of ${what}`, rep);
    if (s !== undefined) out.push(s);
  }
  return out;
}

/** A bare word from a closed set (`postgres`, `redact`, `rows`). */
export function readWord(e: Expr | Ident, allowed: readonly string[], what: string, rep: Reporter): string | undefined {
  const word = "segments" in e ? (e.segments.length === 1 ? e.segments[0]!.name : undefined) : "name" in e ? e.name : undefined;
  if (word !== undefined && allowed.includes(word)) return word;
  const shown = word !== undefined ? `\`${word}\`` : describe(e as Expr);
  rep.error(Code.UnknownEnumWord, e.span, `${what} must be one of ${allowed.join(" | ")}, found ${shown}`, {
    ...(word !== undefined ? { help: didYouMean(word, allowed) } : {}),
  });
  return undefined;
}

export function readDurationMs(e: Expr, what: string, rep: Reporter): number | undefined {
  if (e.kind === "duration") return e.ms;
  rep.error(Code.ValueType, e.span, `${what} must be a duration like 30s, 15m, 2h or 7d, found ${describe(e)}`);
  return undefined;
}

export function readPositiveInt(e: Expr, what: string, rep: Reporter): number | undefined {
  if (e.kind === "number" && Number.isSafeInteger(e.value) && e.value > 0) return e.value;
  rep.error(Code.InvalidNumber, e.span, `${what} must be a positive whole number, found ${e.kind === "number" ? e.raw : describe(e)}`);
  return undefined;
}

/** A list of `KIND.NAME` references (`group.dba`, `tag.prod`, `connection.orders-db`). */
export function readRefList(
  e: Expr,
  kinds: readonly string[],
  what: string,
  rep: Reporter,
): { kind: string; name: string; span: Span }[] | undefined {
  if (e.kind !== "list") {
    rep.error(Code.ValueType, e.span, `${what} must be a list like [${kinds[0]}.NAME], found ${describe(e)}`);
    return undefined;
  }
  const out: { kind: string; name: string; span: Span }[] = [];
  for (const item of e.items) {
    const r = readRef(item, kinds, `each item of ${what}`, rep);
    if (r) out.push(r);
  }
  return out;
}

export function readRef(
  e: Expr,
  kinds: readonly string[],
  what: string,
  rep: Reporter,
): { kind: string; name: string; span: Span } | undefined {
  if (e.kind === "ref" && e.segments.length === 2 && kinds.includes(e.segments[0]!.name)) {
    return { kind: e.segments[0]!.name, name: e.segments[1]!.name, span: e.span };
  }
  const head = e.kind === "ref" ? e.segments[0]!.name : undefined;
  rep.error(Code.WrongReferenceKind, e.span, `${what} must be ${kinds.map((k) => `${k}.NAME`).join(" or ")}, found ${describe(e)}`, {
    ...(head !== undefined && e.kind === "ref" && e.segments.length === 2 ? { help: didYouMean(head, kinds) } : {}),
  });
  return undefined;
}

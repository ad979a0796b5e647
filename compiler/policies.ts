// Checks a policy block: subjects and connections resolve, rules/masks/limits type-check
// against the kinds of connection the policy reaches, and lowers them for the bundle.

import type { Attribute, Expr, LimitRule, MaskRule, PolicyDecl, Rule, Span } from "../dsl/ast.js";
import type { Cond, MaskStrategy } from "../runtime/bundle/format.js";
import { DETECTORS, type ConnectionKind, type DetectorName } from "../runtime/schema/attributes.js";
import type { CondScope, Reach } from "./attributes.js";
import { Code } from "./codes.js";
import { checkCondition } from "./conditions.js";
import { location, type CheckedConnection, type CheckedPolicy, type CheckedRule } from "./program.js";
import { didYouMean, Reporter } from "./report.js";
import {
  attributesOf,
  describe,
  readDurationMs,
  readPositiveInt,
  readRefList,
  readString,
  readWord,
  type KeySpec,
} from "./values.js";

export const DEFAULT_REVIEW_TIMEOUT_MS = 15 * 60_000;

export interface Names {
  connections: ReadonlyMap<string, CheckedConnection>;
  groups: ReadonlySet<string>;
}

export function checkPolicy(d: PolicyDecl, names: Names, rep: Reporter): CheckedPolicy | undefined {
  const policy = d.name.name;
  const attrs = attributesOf(
    d.body.filter((m): m is Attribute => m.kind === "attribute"),
    { subjects: "required", connections: "required", description: "optional" },
    { what: `policy \`${policy}\``, span: d.name.span },
    rep,
  );
  const subjects = resolveGroups(attrs.get("subjects")?.value, "`subjects`", names, rep);
  const connections = resolveConnections(attrs.get("connections")?.value, names, rep);
  const descAttr = attrs.get("description");
  const description = descAttr && readString(descAttr.value, "`description`", rep);
  if (!subjects || !connections) return undefined;

  const kinds = new Map<ConnectionKind, string>();
  for (const c of connections) {
    const kind = names.connections.get(c)!.kind;
    if (!kinds.has(kind)) kinds.set(kind, c);
  }
  const reach: Reach = { policy, kinds };
  const out: CheckedPolicy = {
    name: policy,
    ...(description !== undefined ? { description } : {}),
    subjects,
    connections,
    kinds: [...kinds.keys()].sort(),
    rules: [],
    masks: [],
    limits: [],
    source: location(d.name.span),
    span: d.name.span,
  };
  const counters = new Map<string, number>();
  const nextId = (what: string) => {
    const n = (counters.get(what) ?? 0) + 1;
    counters.set(what, n);
    return `${policy}/${what}#${n}`;
  };
  let ok = true;
  for (const m of d.body) {
    if (m.kind === "rule") {
      const r = checkRule(m, reach, names, nextId(m.effect), rep);
      if (r) out.rules.push(r);
      else ok = false;
    } else if (m.kind === "mask") {
      const mask = checkMask(m, reach, nextId("mask"), policy, rep);
      if (mask) out.masks.push(mask);
      else ok = false;
    } else if (m.kind === "limit") {
      const limit = checkLimit(m, nextId("limit"), policy, rep);
      if (limit) out.limits.push(limit);
      else ok = false;
    }
  }
  return ok ? out : undefined;
}

function resolveGroups(e: Expr | undefined, what: string, names: Names, rep: Reporter): string[] | undefined {
  if (!e) return undefined;
  const refs = readRefList(e, ["group"], what, rep);
  if (!refs) return undefined;
  let ok = true;
  for (const r of refs) {
    if (!names.groups.has(r.name)) {
      ok = false;
      rep.error(Code.UnknownReference, r.span, `unknown group \`${r.name}\``, { ...help(r.name, names.groups) });
    }
  }
  return ok ? [...new Set(refs.map((r) => r.name))].sort() : undefined;
}

function resolveConnections(e: Expr | undefined, names: Names, rep: Reporter): string[] | undefined {
  if (!e) return undefined;
  const refs = readRefList(e, ["tag", "connection"], "`connections`", rep);
  if (!refs) return undefined;
  const out = new Set<string>();
  let ok = true;
  for (const r of refs) {
    if (r.kind === "connection") {
      if (names.connections.has(r.name)) out.add(r.name);
      else {
        ok = false;
        rep.error(Code.UnknownReference, r.span, `unknown connection \`${r.name}\``, { ...help(r.name, names.connections.keys()) });
      }
    } else {
      for (const c of names.connections.values()) if (c.tags.includes(r.name)) out.add(c.name);
    }
  }
  return ok ? [...out].sort() : undefined;
}

const RULE_OPTIONS: Record<"allow" | "deny" | "review", KeySpec> = {
  allow: { id: "optional", reason: "optional" },
  deny: { id: "optional", reason: "optional" },
  review: { id: "optional", reason: "optional", approvers: "required", timeout: "optional" },
};

function checkRule(r: Rule, reach: Reach, names: Names, defaultId: string, rep: Reporter): CheckedRule | undefined {
  const scope: CondScope = { kind: "rule", reach };
  const cond = whenUnless(r.when, r.unless, scope, rep);
  const opts = attributesOf(r.options, RULE_OPTIONS[r.effect], { what: `a \`${r.effect}\` rule`, span: r.effectSpan }, rep);
  const id = optionalString(opts.get("id"), rep) ?? defaultId;
  const reason = optionalString(opts.get("reason"), rep);
  const approversAttr = opts.get("approvers");
  const approvers = approversAttr ? resolveGroups(approversAttr.value, "`approvers`", names, rep) : undefined;
  const timeoutAttr = opts.get("timeout");
  const timeoutMs = timeoutAttr ? readDurationMs(timeoutAttr.value, "`timeout`", rep) : DEFAULT_REVIEW_TIMEOUT_MS;
  if (!cond || (r.effect === "review" && (!approvers || timeoutMs === undefined))) return undefined;
  return {
    id,
    policy: reach.policy,
    effect: r.effect,
    cond,
    ...(reason !== undefined ? { reason } : {}),
    ...(r.effect === "review" ? { approvers, timeoutMs } : {}),
    source: location(r.span),
    span: r.span,
  };
}

function whenUnless(when: Expr | undefined, unless: Expr | undefined, scope: CondScope, rep: Reporter): Cond | undefined {
  const w = when ? checkCondition(when, scope, rep) : { op: "true" as const };
  const u = unless ? checkCondition(unless, scope, rep) : undefined;
  if (!w || (unless && !u)) return undefined;
  if (!u) return w;
  const not: Cond = { op: "not", arg: u };
  return w.op === "true" ? not : { op: "and", args: [...(w.op === "and" ? w.args : [w]), not] };
}

const COLUMN = /^[a-z_][a-z0-9_$]*(\.[a-z_][a-z0-9_$]*){1,2}$/;

function checkMask(m: MaskRule, reach: Reach, defaultId: string, policy: string, rep: Reporter) {
  const cond = whenUnless(m.when, m.unless, { kind: "mask", reach }, rep);
  const opts = attributesOf(m.options, { with: "optional", id: "optional" }, { what: "a mask's options", span: m.span }, rep);
  const withAttr = opts.get("with");
  const strategy = withAttr ? readStrategy(withAttr.value, rep) : { kind: "redact" as const };
  const id = optionalString(opts.get("id"), rep) ?? defaultId;
  const columns: string[] = [];
  const detectors: DetectorName[] = [];
  let ok = true;
  for (const item of m.targets.items) {
    if (m.mode === "columns") {
      const col = item.kind === "string" ? item.value.toLowerCase() : undefined;
      if (col !== undefined && COLUMN.test(col)) columns.push(col);
      else {
        ok = false;
        rep.error(Code.InvalidColumn, item.span, `a masked column is written "table.column" or "schema.table.column", found ${describe(item)}`);
      }
    } else {
      const d = readWord(item, DETECTORS, "a detector", rep) as DetectorName | undefined;
      if (d) detectors.push(d);
      else ok = false;
    }
  }
  if (!ok || !cond || !strategy) return undefined;
  if (m.mode === "columns" && reach.kinds.size > 0 && !reach.kinds.has("postgres")) {
    rep.error(Code.AttributeNotAvailable, m.span, `\`mask columns\` applies to postgres results, but policy \`${policy}\` reaches no postgres connection`);
    return undefined;
  }
  return {
    id,
    policy,
    columns: [...new Set(columns)].sort(),
    detectors: [...new Set(detectors)].sort(),
    strategy,
    cond,
    source: location(m.span),
    span: m.span,
  };
}

function readStrategy(e: Expr, rep: Reporter): MaskStrategy | undefined {
  if (e.kind === "call") {
    if (e.callee.name !== "partial") {
      rep.error(Code.UnknownEnumWord, e.callee.span, `unknown mask strategy \`${e.callee.name}(…)\``, {
        help: "strategies: redact, partial(N), hash, null",
      });
      return undefined;
    }
    const [n, ...rest] = e.args;
    if (!n || rest.length > 0) {
      rep.error(Code.ValueType, e.span, "partial takes one argument: the number of trailing characters to keep");
      return undefined;
    }
    const keep = readPositiveInt(n, "partial(N)", rep);
    return keep === undefined ? undefined : { kind: "partial", keep };
  }
  const word = readWord(e, ["redact", "hash", "null", "partial"], "`with`", rep);
  if (word === "partial") {
    rep.error(Code.ValueType, e.span, "partial needs the number of characters to keep, e.g. partial(4)");
    return undefined;
  }
  return word ? { kind: word as MaskStrategy["kind"] } : undefined;
}

function checkLimit(l: LimitRule, id: string, policy: string, rep: Reporter) {
  const measure = readWord(l.measure, ["rows", "bytes"], "a limit", rep) as "rows" | "bytes" | undefined;
  const per = readWord(l.per, ["session", "statement"], "`per`", rep) as "session" | "statement" | undefined;
  const value = readPositiveInt(l.value, "a limit", rep);
  if (!measure || !per || value === undefined) return undefined;
  return { id, policy, measure, value, per, source: location(l.span), span: l.span as Span };
}

function optionalString(a: Attribute | undefined, rep: Reporter): string | undefined {
  return a ? readString(a.value, `\`${a.key.name}\``, rep) : undefined;
}

function help(word: string, candidates: Iterable<string>): { help?: string } {
  const h = didYouMean(word, candidates);
  return h ? { help: h } : {};
}

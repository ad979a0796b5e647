// Structural validation of a `hoopgate.bundle/v1` document: everything the engine relies on is
// checked before anything is compiled, and the first problem is reported with its JSON path
// (`policies[2].rules[0].cond.args[1]: unknown op "xor"`). A bundle that fails here is never
// loaded in part. Every object is closed: an unknown key means the compiler and the runtime
// disagree about the format, which must not be ignored silently (an ignored `unless` would
// widen access).

import {
  ATTRIBUTE_BY_NAME,
  CLAIMS_PREFIX,
  CONNECTION_KINDS,
  DETECTORS,
  DISCRIMINANT,
  MASK_STRATEGIES,
  type ConnectionKind,
} from "../schema/attributes.js";
import { bundleDigest } from "./canonical.js";
import { BUNDLE_FORMAT, type Bundle, type Cond } from "./format.js";

type Json = Record<string, unknown>;

const CMP_OPS = new Set(["==", "!=", "<", "<=", ">", ">="]);
const SET_OPS = new Set(["has_any", "has_all", "within"]);
const EFFECTS = new Set(["allow", "deny", "review"]);
const HEX64 = /^[0-9a-f]{64}$/;

class BundleError extends Error {
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = "BundleError";
  }
}

/** Checks `json` against the bundle format and its own sha256; returns a frozen copy. */
export function validateBundle(json: unknown): Bundle {
  const root = object(json, "bundle");
  keys(root, "bundle", ["format", "sources", "connections", "groups", "policies", "byConnection", "sha256"]);
  if (root.format !== BUNDLE_FORMAT) {
    throw new BundleError("format", `expected "${BUNDLE_FORMAT}", got ${show(root.format)}`);
  }
  checkSources(root.sources);
  const connections = checkConnections(root.connections);
  const groups = checkGroups(root.groups);
  const policies = array(root.policies, "policies");
  const ids = new Set<string>();
  const names = new Set<string>();
  policies.forEach((p, i) => {
    const name = checkPolicy(p, `policies[${i}]`, { connections, groups, ids });
    if (names.has(name)) throw new BundleError(`policies[${i}].name`, `duplicate policy "${name}"`);
    names.add(name);
  });
  checkByConnection(root.byConnection, policies as Json[], connections);
  const sha = string(root.sha256, "sha256");
  if (!HEX64.test(sha)) throw new BundleError("sha256", "not a lowercase hex sha256");
  const actual = bundleDigest(root);
  if (actual !== sha) {
    throw new BundleError("sha256", `does not match the content (content hashes to ${actual})`);
  }
  return deepFreeze(structuredClone(root)) as unknown as Bundle;
}

function checkSources(value: unknown): void {
  let previous = "";
  array(value, "sources").forEach((s, i) => {
    const path = `sources[${i}]`;
    const source = object(s, path);
    keys(source, path, ["path", "sha256"]);
    const file = string(source.path, `${path}.path`);
    if (file <= previous && i > 0) throw new BundleError(`${path}.path`, "sources are not sorted by path");
    previous = file;
    if (!HEX64.test(string(source.sha256, `${path}.sha256`))) {
      throw new BundleError(`${path}.sha256`, "not a lowercase hex sha256");
    }
  });
}

function checkConnections(value: unknown): Map<string, ConnectionKind> {
  const result = new Map<string, ConnectionKind>();
  for (const [name, c] of Object.entries(object(value, "connections"))) {
    const path = `connections.${name}`;
    const connection = object(c, path);
    keys(connection, path, ["kind", "tags"]);
    result.set(name, oneOf(connection.kind, `${path}.kind`, CONNECTION_KINDS));
    strings(connection.tags, `${path}.tags`);
  }
  return result;
}

function checkGroups(value: unknown): Set<string> {
  const groups = object(value, "groups");
  for (const [name, g] of Object.entries(groups)) {
    const path = `groups.${name}`;
    const group = object(g, path);
    keys(group, path, ["issuer", "when"]);
    if (string(group.issuer, `${path}.issuer`) === "") throw new BundleError(`${path}.issuer`, "empty issuer");
    checkCond(group.when, `${path}.when`);
    sessionOnly(group.when as Cond, `${path}.when`, "group predicates");
  }
  return new Set(Object.keys(groups));
}

interface Scope {
  connections: Map<string, ConnectionKind>;
  groups: Set<string>;
  /** rule, mask and limit ids seen so far: unique across the bundle (audit records cite them) */
  ids: Set<string>;
}

function checkPolicy(value: unknown, path: string, scope: Scope): string {
  const policy = object(value, path);
  keys(policy, path, ["name", "subjects", "connections", "rules", "index", "masks", "limits", "source"], ["description"]);
  const name = string(policy.name, `${path}.name`);
  if (policy.description !== undefined) string(policy.description, `${path}.description`);
  string(policy.source, `${path}.source`);
  strings(policy.subjects, `${path}.subjects`).forEach((g, i) => known(scope.groups, g, `${path}.subjects[${i}]`, "group"));
  strings(policy.connections, `${path}.connections`).forEach((c, i) => {
    if (!scope.connections.has(c)) throw new BundleError(`${path}.connections[${i}]`, `unknown connection "${c}"`);
  });
  const rules = array(policy.rules, `${path}.rules`);
  rules.forEach((r, i) => checkRule(r, `${path}.rules[${i}]`, name, scope));
  const index = object(policy.index, `${path}.index`);
  for (const [kind, idx] of Object.entries(index)) {
    oneOf(kind, `${path}.index.${kind}`, CONNECTION_KINDS);
    const indexed = checkIndex(idx, `${path}.index.${kind}`, DISCRIMINANT[kind as ConnectionKind], rules.length);
    for (const r of indexed) {
      const foreign = attributesOf((rules[r] as Json).cond as Cond).find((a) => {
        const requires = ATTRIBUTE_BY_NAME.get(a)?.requires;
        return requires !== undefined && requires !== kind;
      });
      if (foreign !== undefined) {
        throw new BundleError(`${path}.rules[${r}].cond`, `reads ${foreign}, which ${kind} connections do not have, yet index.${kind} lists it`);
      }
    }
  }
  array(policy.masks, `${path}.masks`).forEach((m, i) => checkMask(m, `${path}.masks[${i}]`, name, scope));
  array(policy.limits, `${path}.limits`).forEach((l, i) => checkLimit(l, `${path}.limits[${i}]`, name, scope));
  return name;
}

function checkRule(value: unknown, path: string, policy: string, scope: Scope): void {
  const rule = object(value, path);
  keys(rule, path, ["id", "policy", "effect", "cond", "source"], ["reason", "approvers", "timeoutMs"]);
  checkOwned(rule, path, policy, scope);
  const effect = string(rule.effect, `${path}.effect`);
  if (!EFFECTS.has(effect)) throw new BundleError(`${path}.effect`, `unknown effect "${effect}"`);
  checkCond(rule.cond, `${path}.cond`);
  if (rule.reason !== undefined) string(rule.reason, `${path}.reason`);
  if (effect !== "review" && (rule.approvers !== undefined || rule.timeoutMs !== undefined)) {
    throw new BundleError(path, `approvers and timeoutMs belong to review rules, not ${effect}`);
  }
  if (rule.approvers !== undefined) {
    strings(rule.approvers, `${path}.approvers`).forEach((g, i) => known(scope.groups, g, `${path}.approvers[${i}]`, "group"));
  }
  if (rule.timeoutMs !== undefined) positiveInteger(rule.timeoutMs, `${path}.timeoutMs`);
}

/** Returns every rule index the index lists. */
function checkIndex(value: unknown, path: string, discriminant: string, ruleCount: number): number[] {
  const index = object(value, path);
  keys(index, path, ["attr", "byValue", "any"]);
  if (index.attr !== discriminant) {
    throw new BundleError(`${path}.attr`, `expected "${discriminant}", got ${show(index.attr)}`);
  }
  const any = ruleRefs(index.any, `${path}.any`, ruleCount);
  const listed = new Set(any);
  for (const [v, refs] of Object.entries(object(index.byValue, `${path}.byValue`))) {
    ruleRefs(refs, `${path}.byValue.${v}`, ruleCount).forEach((r, i) => {
      if (any.includes(r)) throw new BundleError(`${path}.byValue.${v}[${i}]`, `rule ${r} is also in "any"`);
      listed.add(r);
    });
  }
  return [...listed];
}

function ruleRefs(value: unknown, path: string, ruleCount: number): number[] {
  const refs = array(value, path).map((r, i) => {
    if (!Number.isInteger(r) || (r as number) < 0 || (r as number) >= ruleCount) {
      throw new BundleError(`${path}[${i}]`, `${show(r)} is not a rule index (0…${ruleCount - 1})`);
    }
    return r as number;
  });
  refs.forEach((r, i) => {
    if (refs.indexOf(r) !== i) throw new BundleError(`${path}[${i}]`, `rule ${r} listed twice`);
  });
  return refs;
}

function checkMask(value: unknown, path: string, policy: string, scope: Scope): void {
  const mask = object(value, path);
  keys(mask, path, ["id", "policy", "columns", "detectors", "strategy", "cond", "source"]);
  checkOwned(mask, path, policy, scope);
  const columns = strings(mask.columns, `${path}.columns`);
  columns.forEach((c, i) => {
    if (c === "" || c !== c.toLowerCase()) throw new BundleError(`${path}.columns[${i}]`, `column "${c}" is not a lowercased name`);
  });
  const detectors = array(mask.detectors, `${path}.detectors`);
  detectors.forEach((d, i) => oneOf(d, `${path}.detectors[${i}]`, DETECTORS));
  if (columns.length === 0 && detectors.length === 0) throw new BundleError(path, "masks no column and runs no detector");
  const strategyPath = `${path}.strategy`;
  const strategy = object(mask.strategy, strategyPath);
  keys(strategy, strategyPath, ["kind"], ["keep"]);
  const kind = oneOf(strategy.kind, `${strategyPath}.kind`, MASK_STRATEGIES);
  if (kind === "partial") {
    if (!Number.isInteger(strategy.keep) || (strategy.keep as number) < 0) {
      throw new BundleError(`${strategyPath}.keep`, "partial needs a count of characters to keep (an integer ≥ 0)");
    }
  } else if (strategy.keep !== undefined) {
    throw new BundleError(`${strategyPath}.keep`, `only partial keeps characters, not ${kind}`);
  }
  checkCond(mask.cond, `${path}.cond`);
  sessionOnly(mask.cond as Cond, `${path}.cond`, "masks");
}

function checkLimit(value: unknown, path: string, policy: string, scope: Scope): void {
  const limit = object(value, path);
  keys(limit, path, ["id", "policy", "measure", "value", "per", "source"]);
  checkOwned(limit, path, policy, scope);
  oneOf(limit.measure, `${path}.measure`, ["rows", "bytes"] as const);
  oneOf(limit.per, `${path}.per`, ["session", "statement"] as const);
  if (!Number.isSafeInteger(limit.value) || (limit.value as number) < 0) {
    throw new BundleError(`${path}.value`, "not an integer ≥ 0");
  }
}

/** id, owning policy and source, shared by rules, masks and limits */
function checkOwned(item: Json, path: string, policy: string, scope: Scope): void {
  const id = string(item.id, `${path}.id`);
  if (id === "") throw new BundleError(`${path}.id`, "empty id");
  if (scope.ids.has(id)) throw new BundleError(`${path}.id`, `duplicate id "${id}"`);
  scope.ids.add(id);
  if (item.policy !== policy) throw new BundleError(`${path}.policy`, `expected "${policy}", got ${show(item.policy)}`);
  string(item.source, `${path}.source`);
}

function checkByConnection(value: unknown, policies: Json[], connections: Map<string, ConnectionKind>): void {
  const byConnection = object(value, "byConnection");
  for (const [name, refs] of Object.entries(byConnection)) {
    const path = `byConnection.${name}`;
    if (!connections.has(name)) throw new BundleError(path, `unknown connection "${name}"`);
    array(refs, path).forEach((r, i) => {
      const policy = Number.isInteger(r) ? policies[r as number] : undefined;
      if (policy === undefined) throw new BundleError(`${path}[${i}]`, `${show(r)} is not a policy index`);
      if (!(policy.connections as string[]).includes(name)) {
        throw new BundleError(`${path}[${i}]`, `policy "${String(policy.name)}" does not list connection "${name}"`);
      }
    });
  }
  policies.forEach((policy, p) => {
    (policy.connections as string[]).forEach((name, i) => {
      const refs = byConnection[name];
      if (!Array.isArray(refs) || !refs.includes(p)) {
        throw new BundleError(`policies[${p}].connections[${i}]`, `byConnection.${name} does not list this policy`);
      }
    });
  });
}

/** Every Cond node, closed shapes: a misspelt or extra key is an error, not ignored. */
function checkCond(value: unknown, path: string): void {
  const cond = object(value, path);
  const op = cond.op;
  switch (op) {
    case "true":
      keys(cond, path, ["op"]);
      return;
    case "and":
    case "or":
      keys(cond, path, ["op", "args"]);
      array(cond.args, `${path}.args`).forEach((a, i) => checkCond(a, `${path}.args[${i}]`));
      return;
    case "not":
      keys(cond, path, ["op", "arg"]);
      checkCond(cond.arg, `${path}.arg`);
      return;
    case "cmp":
      keys(cond, path, ["op", "cmp", "attr", "value"]);
      if (typeof cond.cmp !== "string" || !CMP_OPS.has(cond.cmp)) throw new BundleError(`${path}.cmp`, `unknown comparison ${show(cond.cmp)}`);
      attribute(cond.attr, `${path}.attr`);
      scalar(cond.value, `${path}.value`);
      return;
    case "in":
    case "has_any":
    case "has_all":
    case "within":
      keys(cond, path, ["op", "attr", "values"]);
      attribute(cond.attr, `${path}.attr`);
      array(cond.values, `${path}.values`).forEach((v, i) => scalar(v, `${path}.values[${i}]`));
      return;
    case "contains":
      keys(cond, path, ["op", "attr", "value"]);
      attribute(cond.attr, `${path}.attr`);
      scalar(cond.value, `${path}.value`);
      return;
    case "like":
      keys(cond, path, ["op", "attr", "pattern"]);
      attribute(cond.attr, `${path}.attr`);
      string(cond.pattern, `${path}.pattern`);
      return;
    case "matches": {
      keys(cond, path, ["op", "attr", "regex"]);
      attribute(cond.attr, `${path}.attr`);
      const source = string(cond.regex, `${path}.regex`);
      try {
        new RegExp(source, "u");
      } catch (e) {
        throw new BundleError(`${path}.regex`, `invalid regular expression: ${(e as Error).message}`);
      }
      return;
    }
    default:
      throw new BundleError(path, `unknown op ${show(op)}`);
  }
}

/** Groups and masks are evaluated once, at session start: statement attributes are not known yet. */
function sessionOnly(cond: Cond, path: string, what: string): void {
  const late = attributesOf(cond).find((a) => ATTRIBUTE_BY_NAME.has(a) && ATTRIBUTE_BY_NAME.get(a)!.stage !== "session");
  if (late !== undefined) throw new BundleError(path, `${what} are decided at session start, but this reads ${late}`);
}

/** Attribute names a (checked) condition reads. */
function attributesOf(cond: Cond): string[] {
  switch (cond.op) {
    case "true":
      return [];
    case "and":
    case "or":
      return cond.args.flatMap(attributesOf);
    case "not":
      return attributesOf(cond.arg);
    default:
      return [cond.attr];
  }
}

function attribute(value: unknown, path: string): void {
  const name = string(value, path);
  const claim = name.startsWith(CLAIMS_PREFIX) && name.length > CLAIMS_PREFIX.length;
  if (!claim && !ATTRIBUTE_BY_NAME.has(name)) throw new BundleError(path, `unknown attribute "${name}"`);
}

function scalar(value: unknown, path: string): void {
  if (typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number" && Number.isFinite(value)) return;
  throw new BundleError(path, `expected a string, number or boolean, got ${show(value)}`);
}

function object(value: unknown, path: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BundleError(path, `expected an object, got ${show(value)}`);
  }
  return value as Json;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new BundleError(path, `expected an array, got ${show(value)}`);
  return value;
}

function string(value: unknown, path: string): string {
  if (typeof value !== "string") throw new BundleError(path, `expected a string, got ${show(value)}`);
  return value;
}

function strings(value: unknown, path: string): string[] {
  return array(value, path).map((s, i) => string(s, `${path}[${i}]`));
}

function positiveInteger(value: unknown, path: string): void {
  if (!Number.isSafeInteger(value) || (value as number) <= 0) throw new BundleError(path, "not an integer > 0");
}

function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new BundleError(path, `${show(value)} is not one of ${allowed.join(", ")}`);
  }
  return value as T;
}

function known(set: Set<string>, name: string, path: string, what: string): void {
  if (!set.has(name)) throw new BundleError(path, `unknown ${what} "${name}"`);
}

function keys(value: Json, path: string, required: string[], optional: string[] = []): void {
  for (const key of required) {
    if (value[key] === undefined) throw new BundleError(path, `missing "${key}"`);
  }
  for (const key of Object.keys(value)) {
    if (!required.includes(key) && !optional.includes(key)) throw new BundleError(`${path}.${key}`, "unknown key");
  }
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

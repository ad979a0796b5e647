// Schema validation with errors worded for people: the key path, what was expected, and a
// did-you-mean for misspelled keys.

import { Ajv, type ErrorObject } from "ajv";
import { closest, distance } from "fastest-levenshtein";
import { configSchema, type RawConfig } from "./schema.js";
import { keyPath, type ConfigIssue, type KeySegment } from "./errors.js";

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
ajv.addKeyword({ keyword: "message", schemaType: "string" });
const validateSchema = ajv.compile<RawConfig>(configSchema);

export type Validation = { ok: true; config: RawConfig } | { ok: false; issues: ConfigIssue[] };

export function validateConfig(document: unknown): Validation {
  if (validateSchema(document)) return { ok: true, config: document };
  const issues = new Map<string, ConfigIssue>();
  for (const error of validateSchema.errors ?? []) {
    const issue = describe(error, document);
    if (issue !== undefined) issues.set(`${issue.path}\0${issue.message}`, issue);
  }
  return { ok: false, issues: [...issues.values()] };
}

function describe(error: ErrorObject, document: unknown): ConfigIssue | undefined {
  const at = segments(error.instancePath, document);
  const params = error.params as Record<string, unknown>;
  const annotated = (error.parentSchema as { message?: unknown } | undefined)?.message;
  const message = typeof annotated === "string" ? annotated : undefined;
  if (error.propertyName !== undefined) {
    // a propertyNames failure: ajv reports it once for the name and once for the object
    if (error.keyword === "propertyNames") return undefined;
    return { path: keyPath([...at, error.propertyName]), message: message ?? "is not a valid name" };
  }
  switch (error.keyword) {
    case "required":
      return { path: keyPath([...at, String(params.missingProperty)]), message: "is required" };
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const known = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
      return { path: keyPath([...at, key]), message: `unknown key${suggest(key, known)}` };
    }
    case "type":
      return { path: keyPath(at), message: `must be ${typeNames(String(params.type))}` };
    case "pattern":
      return { path: keyPath(at), message: message ?? "has an invalid format" };
    case "enum":
      return { path: keyPath(at), message: `must be one of ${(params.allowedValues as unknown[]).join(", ")}` };
    case "minLength":
    case "minItems":
    case "minProperties":
      return { path: keyPath(at), message: "must not be empty" };
    case "minimum":
      return { path: keyPath(at), message: `must be at least ${String(params.limit)}` };
    default:
      return { path: keyPath(at), message: error.message ?? "is invalid" };
  }
}

function suggest(key: string, known: string[]): string {
  if (known.length === 0) return "";
  const best = closest(key, known);
  if (distance(key, best) <= Math.max(2, Math.floor(key.length / 3))) return ` (did you mean "${best}"?)`;
  return ` (expected one of: ${known.join(", ")})`;
}

const TYPE_NAMES: Record<string, string> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  boolean: "true or false",
  integer: "a whole number",
  number: "a number",
};

function typeNames(types: string): string {
  return types.split(",").map((t) => TYPE_NAMES[t] ?? t).join(" or ");
}

/** JSON pointer → key segments, array indexes as numbers. */
function segments(pointer: string, document: unknown): KeySegment[] {
  if (pointer === "") return [];
  const out: KeySegment[] = [];
  let node: unknown = document;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(node)) {
      out.push(Number(key));
      node = node[Number(key)];
    } else {
      out.push(key);
      node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return out;
}

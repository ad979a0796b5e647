// The provider's schema vocabulary: each resource and data source declares its attributes
// with these, and the protocol layer turns them into tfplugin6 schemas and plans.

import type { TfObject } from "../protocol/values.js";

export type AttrType = "string" | "number" | "bool" | { list: AttrType } | { map: AttrType } | { object: Record<string, AttrType> };

export interface AttributeSpec {
  type: AttrType;
  description: string;
  required?: boolean;
  optional?: boolean;
  /** set by the provider; with `optional` too, the config may set it */
  computed?: boolean;
  sensitive?: boolean;
  /** a change destroys and re-creates the resource */
  requiresReplace?: boolean;
  /** a computed value that stays as it was when the resource updates (ids) */
  keepPriorOnUnknown?: boolean;
}

export interface NestedBlockSpec {
  nesting: "single" | "list";
  block: BlockSpec;
  minItems?: number;
  maxItems?: number;
}

export interface BlockSpec {
  description: string;
  attributes: Record<string, AttributeSpec>;
  blocks?: Record<string, NestedBlockSpec>;
}

/** A step into a value: an attribute name, or a list index / map key. */
export type PathStep = string | number | { key: string };

/** A problem shown by terraform, pointing at an attribute of the configuration when it can. */
export class DiagnosticError extends Error {
  constructor(
    readonly summary: string,
    readonly detail = "",
    readonly path: PathStep[] = [],
  ) {
    super(detail ? `${summary}: ${detail}` : summary);
    this.name = "DiagnosticError";
  }
}

/** Several problems at once (every error of a policy set). */
export class DiagnosticsError extends Error {
  constructor(readonly diagnostics: DiagnosticError[]) {
    super(diagnostics.map((d) => d.message).join("\n"));
    this.name = "DiagnosticsError";
  }
}

export interface Diagnostic {
  severity: "error" | "warning";
  summary: string;
  detail?: string;
  path?: PathStep[];
}

export function ctyType(type: AttrType): unknown {
  if (typeof type === "string") return type;
  if ("list" in type) return ["list", ctyType(type.list)];
  if ("map" in type) return ["map", ctyType(type.map)];
  return ["object", Object.fromEntries(Object.entries(type.object).map(([k, t]) => [k, ctyType(t)]))];
}

/** The value with exactly the block's attributes and blocks (missing → null, extra dropped). */
export function normalize(block: BlockSpec, value: TfObject): TfObject {
  const out: TfObject = {};
  for (const name of Object.keys(block.attributes)) out[name] = value[name] ?? null;
  for (const [name, nested] of Object.entries(block.blocks ?? {})) {
    const inner = value[name];
    if (nested.nesting === "single") out[name] = isObject(inner) ? normalize(nested.block, inner) : null;
    else out[name] = Array.isArray(inner) ? inner.filter(isObject).map((item) => normalize(nested.block, item)) : [];
  }
  return out;
}

export function isObject(value: unknown): value is TfObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

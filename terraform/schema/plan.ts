// Planning for managed resources, the part terraform leaves to providers: computed
// attributes the configuration leaves null become unknown ("known after apply") on create and
// on any change, unless they keep their prior value; attributes marked requires-replace that
// change force a replacement; a resource whose values did not change plans as a no-op.

import { UNKNOWN, isUnknown, type TfObject, type TfValue } from "../protocol/values.js";
import type { BlockSpec } from "./types.js";

export interface Plan {
  planned: TfObject | null;
  /** attribute names whose change forces a replacement */
  requiresReplace: string[];
}

export function sameValue(a: TfValue | undefined, b: TfValue | undefined): boolean {
  if (isUnknown(a) || isUnknown(b)) return false;
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  }
  if (typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((key) => sameValue(a[key], b[key]));
  }
  return false;
}

/**
 * `derived` are computed values the resource can work out at plan time (a bundle's digest):
 * they are planned as given, and a difference from the prior state counts as a change.
 */
export function planResource(
  block: BlockSpec,
  prior: TfObject | null,
  proposed: TfObject | null,
  config: TfObject | null,
  derived: TfObject = {},
): Plan {
  if (proposed === null || config === null) return { planned: null, requiresReplace: [] };
  const planned: TfObject = { ...proposed, ...derived };
  const unset = (name: string): boolean => (config[name] ?? null) === null && !(name in derived);
  const computedUnset = Object.entries(block.attributes).filter(([name, spec]) => spec.computed && unset(name));
  if (prior === null) {
    for (const [name] of computedUnset) planned[name] = UNKNOWN;
    return { planned, requiresReplace: [] };
  }
  const changed = Object.keys(block.attributes).some((name) => !sameValue(planned[name], prior[name]))
    || Object.keys(block.blocks ?? {}).some((name) => !sameValue(planned[name], prior[name]));
  if (!changed) return { planned: prior, requiresReplace: [] };
  const requiresReplace = Object.entries(block.attributes)
    .filter(([name, spec]) => spec.requiresReplace && !sameValue(planned[name], prior[name]))
    .map(([name]) => name);
  for (const [name, spec] of computedUnset) {
    if (requiresReplace.length > 0 || !spec.keepPriorOnUnknown) planned[name] = UNKNOWN;
  }
  return { planned, requiresReplace };
}

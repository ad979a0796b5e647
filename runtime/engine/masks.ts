// Session masks (DESIGN.md §2): the union of the applicable policies' mask rules whose
// condition holds for the session; on one column (or detector) the strongest strategy wins.

import type { BundleMask, MaskStrategy } from "../bundle/format.js";
import type { DetectorName } from "../schema/attributes.js";
import { compileCond, type Predicate } from "./cond.js";
import type { AttributeRecord, AttributeSlots } from "./slots.js";
import type { SessionMasks } from "./types.js";

export interface CompiledMask {
  readonly columns: readonly string[];
  readonly detectors: readonly DetectorName[];
  readonly strategy: MaskStrategy;
  readonly when: Predicate;
}

export function compileMask(mask: BundleMask, slots: AttributeSlots): CompiledMask {
  return { columns: mask.columns, detectors: mask.detectors, strategy: mask.strategy, when: compileCond(mask.cond, slots) };
}

/** `masks` in policy order; `record` holds session attributes only, so statement conditions fail. */
export function resolveMasks(masks: readonly CompiledMask[], record: AttributeRecord): SessionMasks {
  const columns = new Map<string, MaskStrategy>();
  const detectors = new Map<DetectorName, MaskStrategy>();
  for (const mask of masks) {
    if (!mask.when(record)) continue;
    for (const column of mask.columns) keepStrongest(columns, column, mask.strategy);
    for (const detector of mask.detectors) keepStrongest(detectors, detector, mask.strategy);
  }
  return { columns, detectors };
}

function keepStrongest<K>(map: Map<K, MaskStrategy>, key: K, strategy: MaskStrategy): void {
  const current = map.get(key);
  if (current === undefined || strength(strategy) > strength(current)) map.set(key, strategy);
}

/** redact and null reveal nothing; hash reveals equality; partial(N) reveals N characters. */
function strength(strategy: MaskStrategy): number {
  switch (strategy.kind) {
    case "redact":
    case "null":
      return Number.MAX_SAFE_INTEGER;
    case "hash":
      return Number.MAX_SAFE_INTEGER - 1;
    case "partial":
      return -(strategy.keep ?? 0); // keeping fewer characters is stronger
  }
}

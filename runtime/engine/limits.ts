// Session limits (DESIGN.md §2): the minimum of the applicable policies' limits, per measure
// and scope.

import type { BundlePolicy } from "../bundle/format.js";
import type { SessionLimits } from "./types.js";

const FIELD = {
  rows: { session: "rowsPerSession", statement: "rowsPerStatement" },
  bytes: { session: "bytesPerSession", statement: "bytesPerStatement" },
} as const;

export function mergeLimits(policies: readonly BundlePolicy[]): SessionLimits {
  const limits: SessionLimits = {};
  for (const policy of policies) {
    for (const limit of policy.limits) {
      const field = FIELD[limit.measure][limit.per];
      const current = limits[field];
      if (current === undefined || limit.value < current) limits[field] = limit.value;
    }
  }
  return limits;
}

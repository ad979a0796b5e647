// The proxy's masking port implemented by runtime/masking.

import { buildRowMaskPlan, CopyMasker, maskDataRow, maskDataRows } from "../../masking/index.js";
import type { RowMasking } from "../context.js";

/** `hashKey`: the gateway's HMAC key for the `hash` strategy (at least 32 bytes). */
export function createRowMasking(hashKey: Uint8Array): RowMasking {
  return {
    planRows(columns, detectors) {
      const plan = buildRowMaskPlan(
        columns.map((c) => c.strategy ?? undefined),
        detectors,
        { hashKey, columnTypes: columns.map((c) => ({ dataTypeID: c.typeOid, format: c.format === 1 ? "binary" : "text" })) },
      );
      return plan === undefined ? null : { maskDataRow: (message) => maskDataRow(message, plan), maskDataRows: (run) => maskDataRows(run, plan) };
    },
    planCopy(detectors, format, columns) {
      if (detectors.size === 0) return null;
      const plan = buildRowMaskPlan(new Array<undefined>(columns).fill(undefined), detectors, { hashKey });
      if (plan === undefined) return null;
      const masker = new CopyMasker(plan, format);
      return { maskCopyData: (message) => masker.push(message), end: () => masker.end() };
    },
  };
}

// The proxy's masking port implemented by runtime/masking.

import { buildRowMaskPlan } from "../masking/plan.js";
import { maskDataRow, maskDataRows } from "../masking/datarow.js";
import type { RowMasking } from "./context.js";

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
    planCopy() {
      // Fails closed until runtime/masking offers a COPY masker: the session ends at the first row.
      return {
        maskCopyData() {
          throw new Error("detectors cannot be applied to COPY output yet");
        },
      };
    },
  };
}

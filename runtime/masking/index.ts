// Masking for the PostgreSQL proxy (DESIGN.md §5): pure functions over raw protocol
// messages. Decisions and their reasons: README.md in this folder.
export { CopyMasker } from "./copydata.js";
export type { CopyFormat } from "./copy-codec.js";
export { maskDataRow, maskDataRows } from "./datarow.js";
export { MaskingError } from "./errors.js";
export { buildRowMaskPlan, RowMaskPlan, type ColumnType, type MaskPlanOptions } from "./plan.js";

// BlockSpec → tfplugin6 Schema and Diagnostic → tfplugin6 Diagnostic, as plain objects for
// @grpc/proto-loader.

import { ctyType, type BlockSpec, type Diagnostic, type PathStep } from "./types.js";

export interface WireBlock {
  version: number;
  attributes: object[];
  block_types: object[];
  description: string;
}

export function encodeBlock(block: BlockSpec): WireBlock {
  return {
    version: 0,
    description: block.description,
    attributes: Object.entries(block.attributes).map(([name, spec]) => ({
      name,
      type: Buffer.from(JSON.stringify(ctyType(spec.type))),
      description: spec.description,
      required: spec.required === true,
      optional: spec.optional === true,
      computed: spec.computed === true,
      sensitive: spec.sensitive === true,
    })),
    block_types: Object.entries(block.blocks ?? {}).map(([name, nested]) => ({
      type_name: name,
      block: encodeBlock(nested.block),
      nesting: nested.nesting === "single" ? 1 : 2,
      min_items: nested.minItems ?? 0,
      max_items: nested.maxItems ?? 0,
    })),
  };
}

export function encodeSchema(block: BlockSpec): { version: number; block: WireBlock } {
  return { version: 0, block: encodeBlock(block) };
}

export function encodePath(path: readonly PathStep[]): { steps: object[] } {
  return {
    steps: path.map((step) =>
      typeof step === "string" ? { attribute_name: step } : typeof step === "number" ? { element_key_int: step } : { element_key_string: step.key },
    ),
  };
}

export function encodeDiagnostic(d: Diagnostic): object {
  return {
    severity: d.severity === "error" ? 1 : 2,
    summary: d.summary,
    detail: d.detail ?? "",
    ...(d.path !== undefined && d.path.length > 0 && { attribute: encodePath(d.path) }),
  };
}

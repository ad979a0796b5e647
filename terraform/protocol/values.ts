// Terraform values on the wire: DynamicValue holds msgpack (or, from older state, JSON) of an
// object with every attribute of the schema. An unknown value is msgpack extension type 0;
// any extension is read as unknown, so refined unknowns from newer terraform stay unknown.

import { decode, encode, ExtData, ExtensionCodec } from "@msgpack/msgpack";

/** The one unknown value ("known after apply"). */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

export type TfValue = null | string | number | boolean | Unknown | TfValue[] | { [key: string]: TfValue };
export type TfObject = { [key: string]: TfValue };

export interface DynamicValue {
  msgpack?: Uint8Array;
  json?: Uint8Array;
}

const codec = new ExtensionCodec();
codec.register({
  type: 0,
  // cty writes unknown as fixext1 type 0 with a zero byte; so do we.
  encode: (value: unknown) => (value === UNKNOWN ? new Uint8Array([0]) : null),
  decode: () => UNKNOWN,
});

export function isUnknown(value: TfValue | undefined): value is Unknown {
  return value === UNKNOWN;
}

function fromWire(value: unknown): TfValue {
  if (value === null || value === undefined) return null;
  if (value === UNKNOWN || value instanceof ExtData) return UNKNOWN;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(fromWire);
  if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8");
  if (typeof value === "object") {
    const out: TfObject = {};
    for (const [key, item] of Object.entries(value)) out[key] = fromWire(item);
    return out;
  }
  throw new Error(`unexpected value on the wire: ${typeof value}`);
}

/** Decodes a DynamicValue; an empty one is null (terraform sends nothing for an absent object). */
export function decodeDynamic(value: DynamicValue | null | undefined): TfValue {
  if (value?.msgpack && value.msgpack.length > 0) return fromWire(decode(value.msgpack, { extensionCodec: codec }));
  if (value?.json && value.json.length > 0) return fromWire(JSON.parse(Buffer.from(value.json).toString("utf8")));
  return null;
}

export function encodeDynamic(value: TfValue): DynamicValue {
  return { msgpack: encode(value, { extensionCodec: codec }) };
}

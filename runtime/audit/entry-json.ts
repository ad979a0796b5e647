// The canonical JSON of a chain entry, byte for byte what canonicalJson writes, at a fraction of
// its cost, in two steps: its data when the record's batch is due, the entry around it once the
// record takes its place in the chain. Records come in a handful of shapes (the same keys in the same
// order), so each shape's sorted keys and their quoted names are worked out once and reused.
// Anything the fast path does not handle (a value JSON cannot represent, an object that is not
// plain) is written by canonicalJson itself, which then names the problem.

import { canonicalJson } from "../bundle/canonical.js";

/** one object shape: its own keys as Object.keys lists them, and how to write them sorted */
interface Shape {
  keys: string[];
  /** the key left out (a record's `session`, which the entry carries beside its data) */
  omit: string | undefined;
  sorted: string[];
  /** `"key":` for each sorted key */
  names: string[];
}

/** the shapes seen most recently; claims from tokens make the set open-ended, so it is capped */
const shapes: Shape[] = [];
const MAX_SHAPES = 64;

class Unfit extends Error {}
const UNFIT = new Unfit();

/**
 * The canonical JSON of `body` without its `omit` key: an entry's data, written before the batch
 * is appended (the entry around it needs the record's place in the chain, known only then).
 */
export function writeData(body: object, omit?: string): string {
  try {
    return writeObject(body, omit);
  } catch (err) {
    if (!(err instanceof Unfit)) throw err;
    // canonicalJson names the problem by its path in the entry
    return canonicalJson({ data: dataOf(body, omit) }).slice(DATA_KEY.length, -1);
  }
}

const DATA_KEY = '{"data":';

/** canonicalJson({ seq, time, type, session, data }) where `data` is the canonical JSON of the entry's data */
export function writeEntry(seq: number, time: string, type: string, session: string | undefined, data: string): string {
  // the entry's own keys in sorted order: data, seq, session, time, type
  const sessionKey = session === undefined ? "" : `,"session":${JSON.stringify(session)}`;
  return `${DATA_KEY}${data},"seq":${seq}${sessionKey},"time":${JSON.stringify(time)},"type":${JSON.stringify(type)}}`;
}

/** `body` without `omit`; a body that is not a plain object stays as it is, for canonicalJson to refuse */
function dataOf(body: object, omit: string | undefined): object {
  if (omit === undefined || !isPlain(body)) return body;
  const data: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  delete data[omit];
  return data;
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function writeValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return writeNumber(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      if (Array.isArray(value)) return writeArray(value);
      return writeObject(value, undefined);
    default:
      throw UNFIT;
  }
}

function writeNumber(value: number): string {
  if (!Number.isFinite(value)) throw UNFIT;
  return `${value}`; // what JSON.stringify writes for every finite number, -0 included
}

function writeArray(value: unknown[]): string {
  let out = "[";
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out += ",";
    out += writeValue(value[i]);
  }
  return `${out}]`;
}

function writeObject(value: object, omit: string | undefined): string {
  if (!isPlain(value)) throw UNFIT;
  const record = value as Record<string, unknown>;
  const shape = shapeOf(Object.keys(record), omit);
  let out = "{";
  for (let i = 0; i < shape.sorted.length; i++) {
    const item = record[shape.sorted[i]!];
    if (item === undefined) continue; // as JSON.stringify: an absent optional field
    if (out.length > 1) out += ",";
    out += shape.names[i]! + writeValue(item);
  }
  return `${out}}`;
}

function shapeOf(keys: string[], omit: string | undefined): Shape {
  search: for (const shape of shapes) {
    if (shape.keys.length !== keys.length || shape.omit !== omit) continue;
    for (let i = 0; i < keys.length; i++) if (shape.keys[i] !== keys[i]) continue search;
    return shape;
  }
  const sorted = keys.filter((key) => key !== omit).sort();
  const shape: Shape = { keys, omit, sorted, names: sorted.map((key) => `${JSON.stringify(key)}:`) };
  if (shapes.length >= MAX_SHAPES) shapes.shift();
  shapes.push(shape);
  return shape;
}

// Typed access to a normalized object's attributes, for resource code.

import type { TfObject } from "../protocol/values.js";
import { DiagnosticError } from "./types.js";

export function optionalString(value: TfObject, name: string): string | undefined {
  const v = value[name];
  if (v === null || v === undefined) return undefined;
  if (typeof v !== "string") throw new DiagnosticError(`${name} must be a string`, "", [name]);
  return v;
}

export function requiredString(value: TfObject, name: string): string {
  const v = optionalString(value, name);
  if (v === undefined) throw new DiagnosticError(`${name} is required`, "", [name]);
  return v;
}

export function optionalBool(value: TfObject, name: string): boolean | undefined {
  const v = value[name];
  if (v === null || v === undefined) return undefined;
  if (typeof v !== "boolean") throw new DiagnosticError(`${name} must be a bool`, "", [name]);
  return v;
}

export function stringList(value: TfObject, name: string): string[] {
  const v = value[name];
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v) || v.some((item) => typeof item !== "string")) throw new DiagnosticError(`${name} must be a list of strings`, "", [name]);
  return v as string[];
}

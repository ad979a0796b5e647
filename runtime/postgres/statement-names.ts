// Names a decided statement touches, as the engine's facts list them.

import type { Decision } from "../engine/types.js";

const NONE: readonly string[] = [];

/**
 * The relations the statement text touches, the functions it calls, the prepared statements its
 * EXECUTEs run or the cursors its FETCHes and MOVEs read, as the engine saw them. A single
 * statement's list is the facts' own (shared by every run of the same statement), which lets the
 * row plan cache recognise a repeated shape by reference.
 */
export function statementNames(decision: Decision, kind: "tables" | "functions" | "executes" | "fetches"): readonly string[] {
  const { statements } = decision;
  if (statements.length === 1) return statements[0]![kind] ?? NONE;
  return [...new Set(statements.flatMap((s) => s[kind] ?? NONE))];
}

/** `public.users` → `users`, lowercased: how masks name tables */
export function bareName(name: string): string {
  const dot = name.lastIndexOf(".");
  return (dot < 0 ? name : name.slice(dot + 1)).toLowerCase();
}

// The grammar records spans as offsets (cheap while parsing and backtracking); this pass
// turns them into line/column positions once the parse has succeeded.

import type { Position } from "./ast.js";

interface RawSpan {
  file: string;
  start: number | Position;
  end: number | Position;
}

/** Replaces, in place, every offset span reachable from `root` with a positioned one. */
export function resolvePositions(root: unknown, text: string): void {
  const lineStarts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  const memo = new Map<number, Position>();
  const at = (offset: number): Position => {
    let p = memo.get(offset);
    if (!p) {
      let lo = 0;
      let hi = lineStarts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (lineStarts[mid]! <= offset) lo = mid;
        else hi = mid - 1;
      }
      p = { offset, line: lo + 1, column: offset - lineStarts[lo]! + 1 };
      memo.set(offset, p);
    }
    // shared between spans that start or end at the same offset: nothing mutates positions
    return p;
  };
  const visit = (value: unknown): void => {
    if (typeof value !== "object" || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    const raw = value as RawSpan;
    if (typeof raw.start === "number" && typeof raw.end === "number" && typeof raw.file === "string") {
      raw.start = at(raw.start);
      raw.end = at(raw.end);
      return;
    }
    for (const key in value) visit((value as Record<string, unknown>)[key]);
  };
  visit(root);
}

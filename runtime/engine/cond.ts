// Conditions compiled once, at load, into closures over the flat attribute record (slots.ts). A leaf
// reads one attribute; when it is missing or has another type than the leaf expects, the
// leaf is false (Cedar-like: a missing claim never satisfies a comparison).

import type { Cond, Scalar } from "../bundle/format.js";
import type { AttributeRecord, AttributeSlots } from "./slots.js";

export type Predicate = (record: AttributeRecord) => boolean;

/** literal lists up to this size are scanned rather than hashed */
const SMALL = 4;

const always: Predicate = () => true;
const never: Predicate = () => false;

export function compileCond(cond: Cond, slots: AttributeSlots): Predicate {
  const compile = (c: Cond) => compileCond(c, slots);
  switch (cond.op) {
    case "true":
      return always;
    case "and":
      return conjunction(cond.args.map(compile));
    case "or":
      return disjunction(cond.args.map(compile));
    case "not": {
      const inner = compile(cond.arg);
      return (f) => !inner(f);
    }
    case "cmp":
      return comparison(slots.slotOf(cond.attr), cond.cmp, cond.value);
    case "in": {
      const attr = slots.slotOf(cond.attr);
      const values = new Set<unknown>(cond.values);
      // only scalars are in the set, so a missing value or a set attribute is never found
      return (f) => values.has(f[attr]);
    }
    case "contains": {
      const { value } = cond;
      const attr = slots.slotOf(cond.attr);
      return (f) => {
        const v = f[attr];
        return Array.isArray(v) && v.includes(value);
      };
    }
    case "has_any": {
      const attr = slots.slotOf(cond.attr);
      const { values } = cond;
      if (values.length <= SMALL) {
        // a few literals: Array.prototype.includes beats hashing every element into a Set
        return (f) => {
          const v = f[attr];
          if (!Array.isArray(v)) return false;
          for (let i = 0; i < values.length; i++) if (v.includes(values[i])) return true;
          return false;
        };
      }
      const set = new Set<unknown>(values);
      return (f) => {
        const v = f[attr];
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (set.has(v[i])) return true;
        return false;
      };
    }
    case "has_all": {
      const { values } = cond;
      const attr = slots.slotOf(cond.attr);
      return (f) => {
        const v = f[attr];
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < values.length; i++) if (!v.includes(values[i])) return false;
        return true;
      };
    }
    case "within": {
      const attr = slots.slotOf(cond.attr);
      const values = new Set<unknown>(cond.values);
      return (f) => {
        const v = f[attr];
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!values.has(v[i])) return false;
        return true;
      };
    }
    case "like":
      return stringTest(slots.slotOf(cond.attr), globMatcher(cond.pattern));
    case "matches": {
      // unanchored search, JavaScript syntax with the `u` flag, as the compiler's ReDoS check saw it
      const re = new RegExp(cond.regex, "u");
      return stringTest(slots.slotOf(cond.attr), (text) => re.test(text));
    }
  }
}

/**
 * `*` matches any run of characters (newlines included); everything else is literal. Matched
 * segment by segment — the first anchored at the start, the last at the end, each one between
 * at its first occurrence after the one before — in time linear in the text: the regular
 * expression `^a.*b.*c$` backtracks quadratically, and a client chooses the text (`sql.text`).
 */
export function globMatcher(pattern: string): (text: string) => boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return (text) => text === pattern;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((part) => part !== "");
  const shortest = parts.reduce((n, part) => n + part.length, 0);
  return (text) => {
    if (text.length < shortest || !text.startsWith(first) || !text.endsWith(last)) return false;
    const end = text.length - last.length;
    let at = first.length;
    for (const part of middle) {
      const found = text.indexOf(part, at);
      if (found < 0 || found + part.length > end) return false;
      at = found + part.length;
    }
    return true;
  };
}

function stringTest(attr: number, test: (text: string) => boolean): Predicate {
  return (f) => {
    const v = f[attr];
    return typeof v === "string" && test(v);
  };
}

function comparison(attr: number, cmp: "==" | "!=" | "<" | "<=" | ">" | ">=", value: Scalar): Predicate {
  const type = typeof value;
  switch (cmp) {
    case "==":
      return (f) => f[attr] === value;
    case "!=":
      return (f) => {
        const v = f[attr];
        return typeof v === type && v !== value;
      };
  }
  if (type === "boolean") return never; // booleans have no order
  const ordered = value as number | string;
  switch (cmp) {
    case "<":
      return (f) => {
        const v = f[attr];
        return typeof v === type && (v as typeof ordered) < ordered;
      };
    case "<=":
      return (f) => {
        const v = f[attr];
        return typeof v === type && (v as typeof ordered) <= ordered;
      };
    case ">":
      return (f) => {
        const v = f[attr];
        return typeof v === type && (v as typeof ordered) > ordered;
      };
    case ">=":
      return (f) => {
        const v = f[attr];
        return typeof v === type && (v as typeof ordered) >= ordered;
      };
  }
}

function conjunction(parts: Predicate[]): Predicate {
  if (parts.length === 0) return always;
  if (parts.length === 1) return parts[0]!;
  if (parts.length === 2) {
    const [a, b] = parts as [Predicate, Predicate];
    return (f) => a(f) && b(f);
  }
  return (f) => {
    for (const p of parts) if (!p(f)) return false;
    return true;
  };
}

function disjunction(parts: Predicate[]): Predicate {
  if (parts.length === 0) return never;
  if (parts.length === 1) return parts[0]!;
  if (parts.length === 2) {
    const [a, b] = parts as [Predicate, Predicate];
    return (f) => a(f) || b(f);
  }
  return (f) => {
    for (const p of parts) if (p(f)) return true;
    return false;
  };
}

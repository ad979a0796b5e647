// getopt-style option scanning for the wrappers' own options, so that what follows them
// (their program) is found where the wrapper itself would find it.

import type { ShellWord } from "./words.js";

export interface OptionSpec {
  /** short options without an argument */
  flags?: string;
  /** short options that take an argument (attached, `-uroot`, or the next word) */
  withArg?: string;
  /** short options whose argument, if any, is attached (`-i{}`) */
  optionalArg?: string;
  /** long options without an argument (`--name`), or with an optional `=value` */
  long?: readonly string[];
  /** long options that take an argument (`--name=value` or `--name value`) */
  longWithArg?: readonly string[];
  /** `-10` is an option (nice) */
  numeric?: boolean;
  /** keep scanning after operands (GNU getopt permutation, as su does) */
  permute?: boolean;
  /** `+x` words are options too (shells: `+o name`, `+e`) */
  plus?: boolean;
}

export interface ScannedOptions {
  /** the option words themselves, with their arguments */
  optionWords: ShellWord[];
  /** operands, in order (with permute, from anywhere; otherwise the first operand and all after it) */
  operands: ShellWord[];
  /** option name (`u`, `--user`) → its argument, or true */
  seen: Map<string, ShellWord | true>;
  /** an option this scanner does not know: what follows cannot be located with certainty */
  unknown: boolean;
}

export function scanOptions(words: readonly ShellWord[], spec: OptionSpec): ScannedOptions {
  const out: ScannedOptions = { optionWords: [], operands: [], seen: new Map(), unknown: false };
  let i = 0;
  for (; i < words.length; i++) {
    const word = words[i]!;
    const text = word.value;
    if (text === null) {
      // An expansion where an option may stand: it could be an option or the program.
      out.unknown = true;
      break;
    }
    if (text === "--") {
      out.optionWords.push(word);
      i++;
      break;
    }
    const isOption = text.startsWith("-") || (spec.plus === true && text.startsWith("+"));
    if (!isOption || text === "-" || text === "+") {
      if (!spec.permute) break;
      out.operands.push(word);
      continue;
    }
    out.optionWords.push(word);
    if (text.startsWith("--")) {
      i += scanLong(text, words, i, spec, out);
    } else if (spec.numeric && /^-\d+$/.test(text)) {
      out.seen.set("n", word);
    } else {
      i += scanShort(text, words, i, spec, out);
    }
  }
  out.operands.push(...words.slice(i));
  return out;
}

/** Returns how many following words the option consumed. */
function scanLong(text: string, words: readonly ShellWord[], i: number, spec: OptionSpec, out: ScannedOptions): number {
  const eq = text.indexOf("=");
  const name = eq === -1 ? text : text.slice(0, eq);
  if (spec.longWithArg?.includes(name)) {
    if (eq !== -1) {
      out.seen.set(name, { value: text.slice(eq + 1), pattern: false });
      return 0;
    }
    const arg = words[i + 1];
    if (arg) out.optionWords.push(arg);
    out.seen.set(name, arg ?? true);
    return arg ? 1 : 0;
  }
  if (spec.long?.includes(name)) {
    out.seen.set(name, eq === -1 ? true : { value: text.slice(eq + 1), pattern: false });
    return 0;
  }
  out.unknown = true;
  return 0;
}

function scanShort(text: string, words: readonly ShellWord[], i: number, spec: OptionSpec, out: ScannedOptions): number {
  for (let k = 1; k < text.length; k++) {
    const letter = text[k]!;
    const attached = text.slice(k + 1);
    if (spec.withArg?.includes(letter)) {
      if (attached) {
        out.seen.set(letter, { value: attached, pattern: false });
        return 0;
      }
      const arg = words[i + 1];
      if (arg) out.optionWords.push(arg);
      out.seen.set(letter, arg ?? true);
      return arg ? 1 : 0;
    }
    if (spec.optionalArg?.includes(letter)) {
      out.seen.set(letter, attached ? { value: attached, pattern: false } : true);
      return 0;
    }
    if (!spec.flags?.includes(letter)) out.unknown = true;
    out.seen.set(letter, true);
  }
  return 0;
}

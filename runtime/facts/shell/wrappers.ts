// Programs that run other programs. Each unwrapper reads the words after the program name
// the way that program would, and says which words are its own arguments, which commands it
// runs, and which words are shell code it runs.

import { scanOptions, type OptionSpec, type ScannedOptions } from "./options.js";
import type { ShellWord } from "./words.js";

export interface Unwrapped {
  /** the wrapper's own argument words */
  args: ShellWord[];
  /** commands it runs, each program first */
  commands: ShellWord[][];
  /** words it runs as shell code */
  bodies: ShellWord[];
  /** what it runs cannot be told from the text */
  dynamic: boolean;
}

type Unwrapper = (words: ShellWord[]) => Unwrapped;

const result = (args: ShellWord[], commands: ShellWord[][] = [], dynamic = false, bodies: ShellWord[] = []): Unwrapped =>
  ({ args, commands, bodies, dynamic });

const isAssignment = (w: ShellWord): boolean => w.value !== null && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w.value);

/** `WRAPPER [options] [NAME=value…] [N leading operands] command…` */
function simpleWrapper(spec: OptionSpec, opts: { assignments?: boolean; leadingOperands?: number } = {}): Unwrapper {
  return (words) => {
    const scan = scanOptions(words, spec);
    const args = [...scan.optionWords];
    let rest = scan.operands;
    if (opts.assignments) {
      while (rest[0] && isAssignment(rest[0])) args.push(rest.shift()!);
    }
    const leading = opts.leadingOperands ?? 0;
    args.push(...rest.slice(0, leading));
    rest = rest.slice(leading);
    return result(args, rest.length > 0 ? [rest] : [], scan.unknown);
  };
}

const has = (scan: ScannedOptions, ...names: string[]): boolean => names.some((n) => scan.seen.has(n));

const SUDO: OptionSpec = {
  flags: "AbEeHiKklnPSsV",
  withArg: "CDgpRrTtUu",
  long: ["--askpass", "--background", "--bell", "--edit", "--help", "--set-home", "--login", "--remove-timestamp",
    "--reset-timestamp", "--list", "--non-interactive", "--preserve-groups", "--preserve-env", "--shell",
    "--stdin", "--validate", "--version"],
  longWithArg: ["--close-from", "--chdir", "--group", "--host", "--prompt", "--chroot", "--role", "--type",
    "--command-timeout", "--other-user", "--user"],
};

function sudo(words: ShellWord[]): Unwrapped {
  const scan = scanOptions(words, SUDO);
  const args = [...scan.optionWords];
  const rest = [...scan.operands];
  while (rest[0] && isAssignment(rest[0])) args.push(rest.shift()!);
  if (has(scan, "e", "--edit")) return result([...args, ...rest], [], scan.unknown);
  // -s / -i with no command start an interactive shell that reads its commands from stdin.
  const interactive = rest.length === 0 && has(scan, "s", "i", "--shell", "--login");
  return result(args, rest.length > 0 ? [rest] : [], scan.unknown || interactive);
}

function doas(words: ShellWord[]): Unwrapped {
  const scan = scanOptions(words, { flags: "Lns", withArg: "Cu" });
  const rest = scan.operands;
  if (has(scan, "C")) return result([...scan.optionWords, ...rest], [], scan.unknown);
  const interactive = rest.length === 0 && has(scan, "s");
  return result(scan.optionWords, rest.length > 0 ? [rest] : [], scan.unknown || interactive);
}

function env(words: ShellWord[]): Unwrapped {
  const spec: OptionSpec = {
    flags: "i0v",
    withArg: "uCPS",
    long: ["--ignore-environment", "--null", "--debug", "--list-signal-handling", "--default-signal",
      "--ignore-signal", "--block-signal", "--help", "--version"],
    longWithArg: ["--unset", "--chdir", "--split-string"],
  };
  // `env -` is `env -i`.
  const normalized = words[0]?.value === "-" ? [{ value: "-i", pattern: false }, ...words.slice(1)] : words;
  const scan = scanOptions(normalized, spec);
  const args = [...scan.optionWords];
  const rest = [...scan.operands];
  while (rest[0] && isAssignment(rest[0])) args.push(rest.shift()!);
  // -S splits a string into a new command line: code assembled at run time.
  const split = has(scan, "S", "--split-string");
  return result(args, rest.length > 0 ? [rest] : [], scan.unknown || split);
}

function xargs(words: ShellWord[]): Unwrapped {
  const scan = scanOptions(words, {
    flags: "0prtxo",
    withArg: "adEILnPs",
    optionalArg: "eil",
    long: ["--null", "--interactive", "--no-run-if-empty", "--verbose", "--exit", "--open-tty", "--show-limits",
      "--eof", "--replace", "--max-lines", "--help", "--version"],
    longWithArg: ["--arg-file", "--delimiter", "--max-args", "--max-procs", "--max-chars", "--process-slot-var"],
  });
  const command = scan.operands.length > 0 ? scan.operands : [{ value: "echo", pattern: false }];
  // With -I/-i/--replace, input lines are pasted into the command's words.
  const replace = scan.seen.get("I") ?? scan.seen.get("i") ?? scan.seen.get("--replace");
  const marker = replace === undefined ? undefined : replace === true ? "{}" : replace.value;
  const pasted = marker === null || (marker !== undefined && command.some((w) => w.value === null || w.value.includes(marker)));
  return result(scan.optionWords, [command], scan.unknown || pasted);
}

function ionice(words: ShellWord[]): Unwrapped {
  const scan = scanOptions(words, {
    flags: "t",
    withArg: "cnpPu",
    long: ["--ignore", "--help", "--version"],
    longWithArg: ["--class", "--classdata", "--pid", "--pgid", "--uid"],
  });
  // With -p/-P/-u the operands are process, group or user ids, not a command.
  if (has(scan, "p", "P", "u", "--pid", "--pgid", "--uid")) return result([...scan.optionWords, ...scan.operands], [], scan.unknown);
  return result(scan.optionWords, scan.operands.length > 0 ? [scan.operands] : [], scan.unknown);
}

function chroot(words: ShellWord[]): Unwrapped {
  const scan = scanOptions(words, { long: ["--skip-chdir", "--help", "--version"], longWithArg: ["--userspec", "--groups"] });
  const [root, ...command] = scan.operands;
  const args = root ? [...scan.optionWords, root] : scan.optionWords;
  // With no command, chroot runs "$SHELL -i": an interactive shell.
  return result(args, command.length > 0 ? [command] : [], scan.unknown || (root !== undefined && command.length === 0));
}

function su(words: ShellWord[]): Unwrapped {
  const scan = scanOptions(words, {
    flags: "lmpfP",
    withArg: "csgGw",
    long: ["--login", "--preserve-environment", "--pty", "--fast", "--help", "--version"],
    longWithArg: ["--command", "--session-command", "--shell", "--group", "--supp-group", "--whitelist-environment"],
    permute: true,
  });
  const body = scan.seen.get("c") ?? scan.seen.get("--command") ?? scan.seen.get("--session-command");
  const bodyWord = body === true ? undefined : body;
  const args = [...scan.optionWords.filter((w) => w !== bodyWord), ...scan.operands];
  // Without -c, su starts an interactive shell.
  return result(args, [], scan.unknown || body === undefined || body === true, bodyWord ? [bodyWord] : []);
}

function find(words: ShellWord[]): Unwrapped {
  const args: ShellWord[] = [];
  const commands: ShellWord[][] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    args.push(word);
    if (!["-exec", "-execdir", "-ok", "-okdir"].includes(word.value ?? "")) continue;
    const command: ShellWord[] = [];
    for (i++; i < words.length && words[i]!.value !== ";" && words[i]!.value !== "+"; i++) command.push(words[i]!);
    if (i < words.length) args.push(words[i]!);
    if (command.length > 0) commands.push(command);
  }
  return result(args, commands);
}

/** `watch [options] command…` runs `sh -c "command…"`, or with -x/--exec the command itself. */
function watch(words: ShellWord[]): Unwrapped {
  const scan = scanOptions(words, {
    flags: "bcCdegptwxr",
    withArg: "nq",
    long: ["--beep", "--color", "--no-color", "--differences", "--errexit", "--chgexit", "--precise", "--no-title",
      "--no-wrap", "--exec", "--no-rerun", "--help", "--version"],
    longWithArg: ["--interval", "--equexit"],
  });
  const command = scan.operands;
  if (command.length === 0) return result(scan.optionWords, [], scan.unknown);
  if (has(scan, "x", "--exec")) return result(scan.optionWords, [command], scan.unknown);
  const literal = command.every((w) => w.value !== null);
  const body: ShellWord = { value: literal ? command.map((w) => w.value).join(" ") : null, pattern: false };
  return result(scan.optionWords, [], scan.unknown, [body]);
}

/** `flock [options] FILE command…`, `flock [options] FILE -c 'code'`, `flock [options] FD`. */
function flock(words: ShellWord[]): Unwrapped {
  const scan = scanOptions(words, {
    flags: "sxenuoFv",
    withArg: "wEc",
    long: ["--shared", "--exclusive", "--nonblock", "--nb", "--unlock", "--close", "--no-fork", "--verbose", "--help", "--version"],
    longWithArg: ["--timeout", "--wait", "--conflict-exit-code", "--command"],
  });
  const [lock, next, ...more] = scan.operands;
  const args = lock ? [...scan.optionWords, lock] : scan.optionWords;
  if (next?.value === "-c" || next?.value === "--command") return result([...args, next], [], scan.unknown, more.slice(0, 1));
  return result(args, next ? [[next, ...more]] : [], scan.unknown);
}

/** `busybox APPLET args…` and `builtin NAME args…`: the next word is the program. */
const nextWordIsProgram: Unwrapper = (words) => {
  if (words[0]?.value?.startsWith("-")) return result(words);
  return result([], words.length > 0 ? [words] : []);
};

const SHELLS: ReadonlySet<string> = new Set(["sh", "bash", "rbash", "zsh", "dash", "ksh", "mksh", "ash", "yash", "posh"]);

const SHELL_OPTIONS: OptionSpec = {
  flags: "abefhkmnptuvxBCEHPTlrDcis",
  withArg: "oO",
  long: ["--login", "--norc", "--noprofile", "--posix", "--restricted", "--verbose", "--debug", "--debugger",
    "--noediting", "--dump-strings", "--dump-po-strings", "--wordexp", "--protected", "--help", "--version"],
  longWithArg: ["--rcfile", "--init-file"],
  plus: true,
};

function shell(words: ShellWord[]): Unwrapped {
  const scan = scanOptions(words, SHELL_OPTIONS);
  if (has(scan, "c")) {
    const [body, ...positional] = scan.operands;
    return result([...scan.optionWords, ...positional], [], scan.unknown || body === undefined, body ? [body] : []);
  }
  // No -c: the shell runs a script file, or, with -s, -i or no operand, reads code from stdin.
  const readsStdin = scan.operands.length === 0 || has(scan, "s", "i");
  return result([...scan.optionWords, ...scan.operands], [], scan.unknown || readsStdin);
}

export const UNWRAPPERS: ReadonlyMap<string, Unwrapper> = new Map<string, Unwrapper>([
  ["sudo", sudo],
  ["doas", doas],
  ["env", env],
  ["nice", simpleWrapper({ withArg: "n", longWithArg: ["--adjustment"], long: ["--help", "--version"], numeric: true })],
  ["nohup", simpleWrapper({ long: ["--help", "--version"] })],
  ["timeout", simpleWrapper(
    { flags: "v", withArg: "sk", long: ["--preserve-status", "--foreground", "--verbose", "--help", "--version"], longWithArg: ["--signal", "--kill-after"] },
    { leadingOperands: 1 },
  )],
  ["time", simpleWrapper({ flags: "pvaq", withArg: "fo", long: ["--portability", "--verbose", "--append", "--quiet", "--help", "--version"], longWithArg: ["--format", "--output"] })],
  ["exec", simpleWrapper({ flags: "cl", withArg: "a" })],
  ["command", simpleWrapper({ flags: "pvV" })],
  ["builtin", nextWordIsProgram],
  ["busybox", nextWordIsProgram],
  ["coproc", nextWordIsProgram],
  ["xargs", xargs],
  ["stdbuf", simpleWrapper({ withArg: "ioe", longWithArg: ["--input", "--output", "--error"], long: ["--help", "--version"] })],
  ["ionice", ionice],
  ["chroot", chroot],
  ["su", su],
  ["find", find],
  ["watch", watch],
  ["flock", flock],
  ["setsid", simpleWrapper({ flags: "cfw", long: ["--ctty", "--fork", "--wait", "--help", "--version"] })],
  ...[...SHELLS].map((name): [string, Unwrapper] => [name, shell]),
]);

/** Builtins that run text as code, or change what a name runs, at run time. */
export const CODE_BUILTINS: ReadonlySet<string> = new Set([
  "eval", "source", ".", "let", "trap", "alias", "fc", "enable", "bind", "complete", "compgen", "hash",
]);

/**
 * Builtins that take variable names: bash evaluates an array subscript in such a name
 * (`read 'a[$(cmd)]'`) and so runs the command substitution inside it.
 */
export const NAME_BUILTINS: ReadonlySet<string> = new Set([
  "printf", "read", "unset", "declare", "typeset", "local", "export", "readonly", "mapfile", "readarray",
  "wait", "getopts", "test", "[",
]);

export const hidesSubscriptCode = (w: ShellWord): boolean => w.value !== null && /\[.*[$`]/s.test(w.value);

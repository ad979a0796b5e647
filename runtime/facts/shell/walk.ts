// Walks a tree-sitter-bash tree and gathers what the command would run: programs, their
// argument words, shell code handed to nested shells, and whether any of it is built at run time.

import { posix } from "node:path";
import type { Node } from "./tree.js";
import { CODE_BUILTINS, hidesSubscriptCode, NAME_BUILTINS, UNWRAPPERS } from "./wrappers.js";
import { shellWord, type ShellWord } from "./words.js";

export interface ShellBody {
  text: string;
  /** nesting level: 0 is the exec command itself */
  depth: number;
}

/** Tests in `[[ ]]` whose operands bash evaluates as arithmetic. */
const ARITHMETIC_TESTS = new Set(["-eq", "-ne", "-lt", "-le", "-gt", "-ge"]);

/** Inside arithmetic, these name a variable whose value bash evaluates as arithmetic in turn. */
const NAME_REFERENCES = new Set(["variable_name", "simple_expansion", "expansion", "command_substitution", "subscript", "word"]);

export class FactCollector {
  readonly programs = new Set<string>();
  readonly args = new Set<string>();
  dynamic = false;
  private bodies: ShellBody[] = [];

  /** Shell code found so far in `sh -c`, `su -c` …, to be parsed and walked next. */
  takeBodies(): ShellBody[] {
    const bodies = this.bodies;
    this.bodies = [];
    return bodies;
  }

  walk(node: Node, depth: number): void {
    switch (node.type) {
      case "comment":
        return;
      case "command":
        this.command(node, depth);
        return;
      case "declaration_command":
      case "unset_command":
        this.declaration(node);
        break;
      case "test_command":
        this.test(node);
        break;
      case "command_substitution":
      case "process_substitution":
        this.dynamic = true;
        break;
      case "arithmetic_expansion":
        this.arithmetic(node);
        break;
      case "c_style_for_statement":
        for (const field of ["initializer", "condition", "update"]) {
          for (const part of node.childrenForFieldName(field)) if (part) this.arithmetic(part);
        }
        break;
      case "compound_statement":
        if (node.firstChild?.type === "((") this.arithmetic(node);
        break;
      case "subscript":
        this.subscript(node);
        break;
      case "expansion":
        // `${!name}`: the variable's value names another variable, itself evaluated.
        if (node.child(1)?.type === "!") this.dynamic = true;
        break;
    }
    for (const child of node.namedChildren) if (child) this.walk(child, depth);
  }

  private command(node: Node, depth: number): void {
    const argv: ShellWord[] = [];
    for (let i = 0; i < node.childCount; i++) {
      const child = node.child(i);
      if (!child) continue;
      const field = node.fieldNameForChild(i);
      if (field === "name") {
        const word = child.namedChildren[0] ?? child;
        argv.unshift(shellWord(word));
      } else if (field === "argument") {
        argv.push(shellWord(child));
      }
      // Assignments and redirections are not words of the command, but may hold substitutions.
      this.walk(child, depth);
    }
    this.run(argv, depth);
  }

  /** Records a command line: its program, its arguments, and whatever it runs in turn. */
  private run(argv: readonly ShellWord[], depth: number): void {
    const [program, ...rest] = argv;
    if (!program) return;
    if (program.value === null || program.pattern) this.dynamic = true;
    const name = program.value === null ? "" : posix.basename(program.value);
    if (name === "") {
      this.addArgs(rest);
      return;
    }
    this.programs.add(name);
    if (CODE_BUILTINS.has(name)) this.dynamic = true;
    if (NAME_BUILTINS.has(name) && rest.some(hidesSubscriptCode)) this.dynamic = true;
    const unwrap = UNWRAPPERS.get(name);
    if (!unwrap) {
      this.addArgs(rest);
      return;
    }
    const inner = unwrap(rest);
    if (inner.dynamic) this.dynamic = true;
    this.addArgs(inner.args);
    for (const command of inner.commands) this.run(command, depth);
    for (const body of inner.bodies) {
      if (body.value === null) this.dynamic = true;
      else this.bodies.push({ text: body.value, depth: depth + 1 });
    }
  }

  private addArgs(words: readonly ShellWord[]): void {
    for (const w of words) if (w.value !== null) this.args.add(w.value);
  }

  /** declare/typeset/local/export/readonly/unset: builtins that take variable names. */
  private declaration(node: Node): void {
    const keyword = node.firstChild?.text ?? "";
    if (keyword) this.programs.add(keyword);
    for (const child of node.namedChildren) {
      if (!child || child.type === "variable_assignment" || child.type === "comment") continue;
      const word = shellWord(child);
      if (word.value === null) continue;
      this.args.add(word.value);
      // -i makes later assignments arithmetic evaluations of the assigned text.
      if (/^[-+][A-Za-z]*i/.test(word.value) || hidesSubscriptCode(word)) this.dynamic = true;
    }
  }

  /** `[ … ]` runs the `[` builtin; `[[ … ]]` is bash's conditional, evaluated like it. */
  private test(node: Node): void {
    const opener = node.firstChild?.type ?? "[";
    this.programs.add(opener);
    for (const leaf of testWords(node)) {
      const word: ShellWord = TEXT_LEAVES.has(leaf.type) ? { value: leaf.text, pattern: false } : shellWord(leaf);
      if (word.value !== null) this.args.add(word.value);
      if (hidesSubscriptCode(word)) this.dynamic = true;
    }
    if (opener !== "[[") return;
    for (const expr of node.descendantsOfType("binary_expression")) {
      if (!expr || !ARITHMETIC_TESTS.has(expr.childForFieldName("operator")?.text ?? "")) continue;
      const operands = [expr.childForFieldName("left"), expr.childForFieldName("right")];
      if (operands.some((o) => !o || o.type !== "number")) this.dynamic = true;
    }
  }

  /** Bash evaluates a variable named in arithmetic as arithmetic too, array subscripts included. */
  private arithmetic(node: Node): void {
    const names = [node, ...node.descendantsOfType([...NAME_REFERENCES])];
    if (names.some((d) => d && NAME_REFERENCES.has(d.type) && !/^\d+$/.test(d.text))) this.dynamic = true;
  }

  private subscript(node: Node): void {
    const index = node.childForFieldName("index");
    if (index && !/^(\d+|@|\*)$/.test(index.text)) this.dynamic = true;
  }
}

/** Test operands and operators, taken as written: patterns and regexes are matched, not expanded. */
const TEXT_LEAVES = new Set(["test_operator", "regex", "extglob_pattern"]);
const TEST_LEAVES = new Set(["word", "string", "raw_string", "number", "concatenation", "ansi_c_string", ...TEXT_LEAVES]);

function testWords(node: Node): Node[] {
  const out: Node[] = [];
  const visit = (n: Node): void => {
    if (n.type === "command_substitution" || n.type === "process_substitution") return;
    if (TEST_LEAVES.has(n.type)) {
      out.push(n);
      return;
    }
    for (const child of n.namedChildren) if (child) visit(child);
  };
  for (const child of node.namedChildren) if (child) visit(child);
  return out;
}

// Lays out the members of a block (or the items of a file): one per line, comments kept
// next to the member they belong to, blank lines kept (at most one), `=` aligned across
// consecutive single-line attributes as `terraform fmt` does (and likewise the effects of
// consecutive rules and the verbs of consecutive expectations).
//
// Where a comment goes:
// - after code on the line where a member ends: stays at the end of that member's last line;
// - after the opening `{`, before the first member: stays on the `{` line (the "header");
// - on a line of its own: stays there, before whatever follows it;
// - inside a member whose layout has no place for it (a list, a condition): moves to a line
//   of its own just before that member ("hoisted").

import type { Comment, Span } from "./ast.js";

export const INDENT = "  ";
export const MAX_WIDTH = 100;

/** A member laid out on its own, its lines relative to its indentation. */
export interface Rendered {
  lines: string[];
  /** the word of the first line that lines up with the same word on neighbouring lines */
  align?: Align;
  /** comments from inside the member that its layout has no place for */
  hoisted: Comment[];
}

/**
 * The first line starts with `prefix + word`; consecutive lines of one group pad `word` to
 * the same width: the key of `key = value`, the effect of a rule, the verb of an `expect`.
 */
export interface Align {
  group: "attribute" | "rule" | "expect";
  prefix: string;
  word: string;
}

export type Render<N> = (node: N, column: number, comments: Comment[]) => Rendered;

export interface BodyOptions<N> {
  /** 0-based column where the members start, for width decisions */
  column: number;
  /** the file level: a blank line after every item, no header comment */
  topLevel: boolean;
  render: Render<N>;
}

export interface Body {
  lines: string[];
  header?: Comment;
}

type Entry =
  | { kind: "comment"; comment: Comment; start: number; end: number }
  | { kind: "node"; index: number; trailing?: Comment; start: number; end: number };

/**
 * `comments` are those between the braces (or in the whole file), sorted by offset; the
 * ones inside a member are handed to its renderer.
 */
export function printBody<N extends { span: Span }>(
  text: string,
  nodes: readonly N[],
  comments: readonly Comment[],
  opts: BodyOptions<N>,
): Body {
  const inner = nodes.map((): Comment[] => []);
  const entries: Entry[] = nodes.map((n, index) => ({
    kind: "node",
    index,
    start: n.span.start.offset,
    end: n.span.end.offset,
  }));
  let header: Comment | undefined;
  for (const c of comments) {
    const at = c.span.start.offset;
    const inside = nodes.findIndex((n) => n.span.start.offset <= at && at < n.span.end.offset);
    if (inside >= 0) {
      inner[inside]?.push(c);
      continue;
    }
    if (afterCode(text, at)) {
      const prev = entries.findLast((e) => e.kind === "node" && e.end <= at);
      if (prev?.kind === "node" && nodes[prev.index]?.span.end.line === c.span.start.line) {
        prev.trailing = c;
        prev.end = c.span.end.offset;
        continue;
      }
      if (prev === undefined && header === undefined && !opts.topLevel) {
        header = c;
        continue;
      }
    }
    entries.push({ kind: "comment", comment: c, start: at, end: c.span.end.offset });
  }
  entries.sort((a, b) => a.start - b.start);

  const lines: string[] = [];
  const aligner = new Aligner(lines);
  let prev: Entry | undefined;
  for (const entry of entries) {
    if (prev !== undefined && (blankBetween(text, prev.end, entry.start) || (opts.topLevel && prev.kind === "node"))) {
      aligner.flush();
      lines.push("");
    }
    prev = entry;
    if (entry.kind === "comment") {
      aligner.flush();
      lines.push(commentText(entry.comment));
      continue;
    }
    const node = nodes[entry.index] as N;
    const r = opts.render(node, opts.column, inner[entry.index] ?? []);
    if (r.hoisted.length > 0) {
      aligner.flush();
      lines.push(...r.hoisted.map(commentText));
    }
    if (r.align === undefined) aligner.flush();
    else aligner.add(lines.length, r.align);
    lines.push(...r.lines);
    if (entry.trailing) lines[lines.length - 1] += ` ${commentText(entry.trailing)}`;
    if (r.lines.length > 1) aligner.flush();
  }
  aligner.flush();
  return header === undefined ? { lines } : { lines, header };
}

/** Pads the aligned word of a run of lines of one group; a multi-line member ends the run. */
class Aligner {
  private run: { line: number; align: Align }[] = [];
  constructor(private readonly lines: string[]) {}

  add(line: number, align: Align): void {
    if (this.run[0] !== undefined && this.run[0].align.group !== align.group) this.flush();
    this.run.push({ line, align });
  }

  flush(): void {
    const width = Math.max(0, ...this.run.map((r) => r.align.word.length));
    for (const { line, align } of this.run) {
      const text = this.lines[line] ?? "";
      const rest = text.slice(align.prefix.length + align.word.length);
      if (rest !== "") this.lines[line] = align.prefix + align.word.padEnd(width) + rest;
    }
    this.run = [];
  }
}

export function commentText(c: Comment): string {
  return c.text.trimEnd();
}

export function indent(lines: readonly string[]): string[] {
  return lines.map((l) => (l === "" ? l : INDENT + l));
}

export function fits(column: number, line: string): boolean {
  return column + line.length <= MAX_WIDTH;
}

/** Whether code precedes the comment at `offset` on its line. */
function afterCode(text: string, offset: number): boolean {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  return /\S/.test(text.slice(lineStart, offset));
}

/** Whether the source has an empty line between two entries (only whitespace and commas lie between them). */
function blankBetween(text: string, from: number, to: number): boolean {
  return (text.slice(from, to).match(/\n/g)?.length ?? 0) >= 2;
}

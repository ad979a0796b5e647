// AST → canonical text (`hoopgate fmt`). Idempotent, and parsing the output gives back the
// same AST up to spans: see test/dsl-format.test.ts.

import type {
  Attribute,
  Comment,
  Expectation,
  Expr,
  Item,
  PolicyMember,
  SourceFile,
  Span,
  TestMember,
} from "./ast.js";
import { commentText, fits, indent, INDENT, printBody, type Align, type Render, type Rendered } from "./format-body.js";
import { formatAttributeInline, formatExpr, formatObjectInline } from "./format-expr.js";

export function formatSource(file: SourceFile): string {
  const printer = new Printer(file.text);
  const body = printBody(file.text, file.items, file.comments, {
    column: 0,
    topLevel: true,
    render: (item, column, comments) => printer.item(item, column, comments),
  });
  return body.lines.length === 0 ? "" : `${body.lines.join("\n")}\n`;
}

class Printer {
  constructor(private readonly text: string) {}

  item(item: Item, column: number, comments: Comment[]): Rendered {
    const head = `${item.kind} ${item.name.name}`;
    switch (item.kind) {
      case "connection":
      case "group":
        return { lines: this.block(head, item.attributes, comments, column, this.attribute), hoisted: [] };
      case "policy":
        return { lines: this.block(head, item.body, comments, column, this.policyMember), hoisted: [] };
      case "test":
        return { lines: this.block(head, item.body, comments, column, this.testMember), hoisted: [] };
    }
  }

  /** `head { members }`, or `head {}` when there is nothing inside. */
  private block<N extends { span: Span }>(
    head: string,
    nodes: readonly N[],
    comments: readonly Comment[],
    column: number,
    render: Render<N>,
  ): string[] {
    const body = printBody(this.text, nodes, comments, { column: column + INDENT.length, topLevel: false, render });
    if (body.lines.length === 0 && body.header === undefined) return [`${head} {}`];
    const open = body.header === undefined ? `${head} {` : `${head} { ${commentText(body.header)}`;
    return [open, ...indent(body.lines), "}"];
  }

  // Arrow properties: passed around as renderers.
  private readonly attribute = (a: Attribute, column: number, comments: Comment[]): Rendered => {
    const key = a.key.name;
    const value = a.value;
    if (value.kind === "object") {
      const [inside, outside] = partition(comments, value.span);
      const line = `${key} = ${formatObjectInline(value.entries)}`;
      if (inside.length > 0 || !fits(column, line)) {
        return { lines: this.block(`${key} =`, value.entries, inside, column, this.attribute), align: keyAlign(key), hoisted: outside };
      }
    }
    return { lines: [formatAttributeInline(a)], align: keyAlign(key), hoisted: comments };
  };

  private readonly policyMember = (m: PolicyMember, column: number, comments: Comment[]): Rendered => {
    switch (m.kind) {
      case "attribute":
        return this.attribute(m, column, comments);
      case "rule":
        return {
          ...this.withOptions(
            m.effect + conditions(m.when, m.unless),
            lastEnd([m.effectSpan, m.when?.span, m.unless?.span]),
            m.options,
            column,
            comments,
          ),
          align: { group: "rule", prefix: "", word: m.effect },
        };
      case "mask":
        return this.withOptions(
          `mask ${m.mode} ${formatExpr(m.targets)}${conditions(m.when, m.unless)}`,
          lastEnd([m.targets.span, m.when?.span, m.unless?.span]),
          m.options,
          column,
          comments,
        );
      case "limit":
        return {
          lines: [`limit ${m.measure.name} = ${formatExpr(m.value)} per ${m.per.name}`],
          hoisted: comments,
        };
    }
  };

  /** A rule or mask head with its `{ options }` on the same line when short, else as a block. */
  private withOptions(
    head: string,
    optionsStart: number,
    options: readonly Attribute[],
    column: number,
    comments: Comment[],
  ): Rendered {
    const inHead = comments.filter((c) => c.span.start.offset < optionsStart);
    const inOptions = comments.filter((c) => c.span.start.offset >= optionsStart);
    if (options.length === 0) return { lines: [head], hoisted: comments };
    const line = `${head} ${formatObjectInline(options)}`;
    if (inOptions.length === 0 && fits(column, line)) return { lines: [line], hoisted: inHead };
    return { lines: this.block(head, options, inOptions, column, this.attribute), hoisted: inHead };
  }

  private readonly testMember = (m: TestMember, column: number, comments: Comment[]): Rendered => {
    if (m.kind === "attribute") return this.attribute(m, column, comments);
    const [verb, rest] = expectation(m);
    return { lines: [`expect ${verb}${rest}`], align: { group: "expect", prefix: "expect ", word: verb }, hoisted: comments };
  };
}

/** `expect VERB REST`, split for alignment. */
function expectation(e: Expectation): [string, string] {
  const on = e.on === undefined ? "" : ` on ${formatExpr(e.on)}`;
  switch (e.expect) {
    case "decision":
      return [e.effect, ` ${e.protocol} ${formatExpr(e.input)}${on}`];
    case "masked":
      return ["masked", ` columns ${formatExpr(e.columns)}${on}`];
    case "refused":
      return ["refused", on];
  }
}

function keyAlign(key: string): Align {
  return { group: "attribute", prefix: "", word: key };
}

function conditions(when: Expr | undefined, unless: Expr | undefined): string {
  return (when === undefined ? "" : ` when ${formatExpr(when)}`) + (unless === undefined ? "" : ` unless ${formatExpr(unless)}`);
}

function lastEnd(spans: readonly (Span | undefined)[]): number {
  return Math.max(...spans.map((s) => s?.end.offset ?? 0));
}

function partition(comments: readonly Comment[], span: Span): [Comment[], Comment[]] {
  const within = (c: Comment) => span.start.offset <= c.span.start.offset && c.span.start.offset < span.end.offset;
  return [comments.filter(within), comments.filter((c) => !within(c))];
}

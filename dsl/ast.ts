// The typed AST of a `.hoop` file. Every node carries the span it was parsed from so that
// the compiler's diagnostics can point at it. Nodes hold no resolved information: name
// resolution and type checking live in compiler/.

export interface Position {
  offset: number; // 0-based UTF-16 offset into the file text
  line: number; // 1-based
  column: number; // 1-based
}

export interface Span {
  file: string;
  start: Position;
  end: Position;
}

export interface Ident {
  name: string;
  span: Span;
}

export interface Comment {
  text: string; // including the leading `#` or `//`
  span: Span;
}

export interface SourceFile {
  path: string;
  text: string;
  items: Item[];
  comments: Comment[];
}

export type Item = ConnectionDecl | GroupDecl | PolicyDecl | TestDecl;

/** `key = value` inside any block. Which keys are allowed is the compiler's business. */
export interface Attribute {
  kind: "attribute";
  key: Ident;
  value: Expr;
  span: Span;
}

export interface ConnectionDecl {
  kind: "connection";
  name: Ident;
  attributes: Attribute[];
  span: Span;
}

export interface GroupDecl {
  kind: "group";
  name: Ident;
  attributes: Attribute[];
  span: Span;
}

export interface PolicyDecl {
  kind: "policy";
  name: Ident;
  body: PolicyMember[];
  span: Span;
}

export type PolicyMember = Attribute | Rule | MaskRule | LimitRule;

export type Effect = "allow" | "deny" | "review";

/** `EFFECT [when EXPR] [unless EXPR] [{ options }]` */
export interface Rule {
  kind: "rule";
  effect: Effect;
  effectSpan: Span;
  when?: Expr;
  unless?: Expr;
  options: Attribute[];
  span: Span;
}

/** `mask columns [...]` / `mask detect [...]` with optional when/unless and `{ with = ... }` */
export interface MaskRule {
  kind: "mask";
  mode: "columns" | "detect";
  targets: ListExpr;
  when?: Expr;
  unless?: Expr;
  options: Attribute[];
  span: Span;
}

/** `limit rows|bytes = N per session|statement` */
export interface LimitRule {
  kind: "limit";
  measure: Ident; // rows | bytes (checked by the compiler)
  value: Expr;
  per: Ident; // session | statement (checked by the compiler)
  span: Span;
}

export interface TestDecl {
  kind: "test";
  name: Ident;
  body: TestMember[];
  span: Span;
}

export type TestMember = Attribute | Expectation;

/**
 * `expect allow|deny|review sql|ssh "text" [on REF]`
 * `expect masked columns [...] [on REF]`
 * `expect refused [on REF]`   (no policy applies: the connection itself is refused)
 */
export type Expectation = ExpectDecision | ExpectMasked | ExpectRefused;

export interface ExpectDecision {
  kind: "expect";
  expect: "decision";
  effect: Effect;
  effectSpan: Span;
  protocol: "sql" | "ssh";
  input: StringLit;
  on?: RefExpr;
  span: Span;
}

export interface ExpectMasked {
  kind: "expect";
  expect: "masked";
  columns: ListExpr;
  on?: RefExpr;
  span: Span;
}

export interface ExpectRefused {
  kind: "expect";
  expect: "refused";
  on?: RefExpr;
  span: Span;
}

// ---------------------------------------------------------------------------
// Expressions. Parentheses are not kept: the formatter re-inserts them by precedence.

export type Expr =
  | StringLit
  | NumberLit
  | BoolLit
  | DurationLit
  | ListExpr
  | ObjectExpr
  | RefExpr
  | CallExpr
  | BinaryExpr
  | NotExpr;

export interface StringLit {
  kind: "string";
  value: string;
  span: Span;
}

export interface NumberLit {
  kind: "number";
  value: number;
  raw: string;
  span: Span;
}

export interface BoolLit {
  kind: "bool";
  value: boolean;
  span: Span;
}

export type DurationUnit = "s" | "m" | "h" | "d";

export interface DurationLit {
  kind: "duration";
  amount: number;
  unit: DurationUnit;
  ms: number;
  span: Span;
}

export interface ListExpr {
  kind: "list";
  items: Expr[];
  span: Span;
}

export interface ObjectExpr {
  kind: "object";
  entries: Attribute[];
  span: Span;
}

/**
 * A bare word (`drop`, `postgres`, `redact`) has one segment; a dotted path
 * (`sql.command`, `claims.repository`, `group.ci-deploy`, `tag.prod`) has several.
 * Whether it is an attribute, a reference to a declaration or an enum word is decided
 * by the compiler from the context.
 */
export interface RefExpr {
  kind: "ref";
  segments: Ident[];
  span: Span;
}

/** `partial(4)` */
export interface CallExpr {
  kind: "call";
  callee: Ident;
  args: Expr[];
  span: Span;
}

export type BinaryOp =
  | "and"
  | "or"
  | "=="
  | "!="
  | "<"
  | "<="
  | ">"
  | ">="
  | "in"
  | "has_any"
  | "has_all"
  | "within"
  | "like"
  | "matches";

export interface BinaryExpr {
  kind: "binary";
  op: BinaryOp;
  opSpan: Span;
  left: Expr;
  right: Expr;
  span: Span;
}

export interface NotExpr {
  kind: "not";
  operand: Expr;
  span: Span;
}

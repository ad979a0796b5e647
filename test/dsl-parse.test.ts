import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../runtime/seeded-random.js";
import {
  parseSource,
  PARSE_CODES,
  renderDiagnostic,
  type BinaryExpr,
  type Expr,
  type GroupDecl,
  type PolicyDecl,
  type SourceFile,
  type TestDecl,
} from "../dsl/index.js";

const DESIGN_EXAMPLE = readFileSync(new URL("./fixtures/design-example.hoop", import.meta.url), "utf8");

function parseOk(text: string, path = "t.hoop"): SourceFile {
  const r = parseSource(path, text);
  expect(r.diagnostics).toEqual([]);
  if (!r.file) throw new Error("parseSource returned neither a file nor diagnostics");
  return r.file;
}

/** The expression of `group g { when = EXPR }`. */
function expr(source: string): Expr {
  const item = parseOk(`group g { when = ${source} }`).items[0] as GroupDecl;
  const attr = item.attributes[0];
  if (!attr) throw new Error("no attribute parsed");
  return attr.value;
}

/** An expression as an s-expression string, to check structure compactly. */
function sexp(e: Expr): string {
  switch (e.kind) {
    case "binary":
      return `(${e.op} ${sexp(e.left)} ${sexp(e.right)})`;
    case "not":
      return `(not ${sexp(e.operand)})`;
    case "ref":
      return e.segments.map((s) => s.name).join(".");
    case "string":
      return JSON.stringify(e.value);
    case "number":
      return e.raw;
    case "bool":
      return String(e.value);
    case "duration":
      return `${e.amount}${e.unit}`;
    case "list":
      return `[${e.items.map(sexp).join(" ")}]`;
    case "object":
      return `{${e.entries.map((a) => `${a.key.name}=${sexp(a.value)}`).join(" ")}}`;
    case "call":
      return `${e.callee.name}(${e.args.map(sexp).join(" ")})`;
  }
}

function policy(body: string): PolicyDecl {
  return parseOk(`policy p {\n${body}\n}`).items[0] as PolicyDecl;
}

function testDecl(body: string): TestDecl {
  return parseOk(`test t {\n${body}\n}`).items[0] as TestDecl;
}

function firstError(text: string) {
  const r = parseSource("bad.hoop", text);
  expect(r.file).toBeUndefined();
  expect(r.diagnostics).toHaveLength(1);
  const d = r.diagnostics[0];
  if (!d) throw new Error("no diagnostic");
  return d;
}

describe("items and attributes", () => {
  it("parses the DESIGN.md example", () => {
    const file = parseOk(DESIGN_EXAMPLE, "design.hoop");
    expect(file.path).toBe("design.hoop");
    expect(file.text).toBe(DESIGN_EXAMPLE);
    expect(file.items.map((i) => `${i.kind} ${i.name.name}`)).toEqual([
      "connection orders-db",
      "connection bastion",
      "group ci-deploy",
      "group dba",
      "policy ci-on-prod",
      "policy ops-on-bastion",
      "test ci-cannot-drop",
    ]);
    expect(file.comments.map((c) => c.text)).toEqual([
      "# postgres | ssh | kubernetes (mysql later)",
      "# tags and/or connection.NAME",
      "# default: with = redact",
    ]);
  });

  it("parses every kind of item, with dashed names", () => {
    const file = parseOk(`connection a-b_c {}\ngroup g-1 {}\npolicy p- {}\ntest _t {}`);
    expect(file.items.map((i) => [i.kind, i.name.name])).toEqual([
      ["connection", "a-b_c"],
      ["group", "g-1"],
      ["policy", "p-"],
      ["test", "_t"],
    ]);
  });

  it("separates members by newlines, commas, or both, with a trailing comma", () => {
    const variants = [
      `connection c { kind = postgres, tags = ["a"] }`,
      `connection c {\n  kind = postgres\n  tags = ["a"]\n}`,
      `connection c {\n  kind = postgres,\n\n  tags = ["a"],\n}`,
      `connection c { kind = postgres, tags = ["a"], }`,
    ];
    for (const v of variants) {
      const item = parseOk(v).items[0];
      if (item?.kind !== "connection") throw new Error("expected a connection");
      expect(item.attributes.map((a) => `${a.key.name}=${sexp(a.value)}`)).toEqual(["kind=postgres", 'tags=["a"]']);
    }
  });

  it("requires a separator between members", () => {
    const d = firstError(`connection c { kind = postgres tags = ["a"] }`);
    expect(d.code).toBe(PARSE_CODES.syntax);
    expect(d.message).toBe('unexpected "tags"');
    expect(d.expected).toEqual(['","', '"}"', "newline", "operator"]);
  });

  it("accepts keywords as attribute and object keys", () => {
    const item = parseOk(`group g { when = { in = 1, and = true } }`).items[0] as GroupDecl;
    expect(item.attributes[0]?.key.name).toBe("when");
    expect(sexp(item.attributes[0]!.value)).toBe("{in=1 and=true}");
  });

  it("parses an empty file and a file of comments", () => {
    expect(parseOk("").items).toEqual([]);
    const file = parseOk("# one\n// two\n");
    expect(file.items).toEqual([]);
    expect(file.comments.map((c) => c.text)).toEqual(["# one", "// two"]);
  });

  it("accepts CRLF line endings", () => {
    const file = parseOk("connection c {\r\n  kind = postgres # x\r\n  tags = []\r\n}\r\n");
    const item = file.items[0];
    expect(item?.kind === "connection" && item.attributes.length).toBe(2);
    expect(file.comments.map((c) => c.text)).toEqual(["# x"]);
  });
});

describe("policy members", () => {
  it("parses rules with every combination of when, unless and options", () => {
    const p = policy(
      [
        "allow",
        "deny when a",
        "review unless b",
        'deny when a unless b { reason = "r", id = "x" }',
        "review when a {\n  approvers = [group.dba]\n  timeout = 15m\n}",
      ].join("\n"),
    );
    const rules = p.body.map((m) => {
      if (m.kind !== "rule") throw new Error(`expected a rule, got ${m.kind}`);
      return [m.effect, m.when && sexp(m.when), m.unless && sexp(m.unless), m.options.map((o) => o.key.name)];
    });
    expect(rules).toEqual([
      ["allow", undefined, undefined, []],
      ["deny", "a", undefined, []],
      ["review", undefined, "b", []],
      ["deny", "a", "b", ["reason", "id"]],
      ["review", "a", undefined, ["approvers", "timeout"]],
    ]);
    const first = p.body[0];
    expect(first && "when" in first).toBe(false);
  });

  it("parses mask rules", () => {
    const p = policy(
      'mask columns ["users.email"] when connection.kind == postgres unless x { with = partial(4) }\nmask detect [credit_card, us_ssn]',
    );
    const [cols, detect] = p.body;
    if (cols?.kind !== "mask" || detect?.kind !== "mask") throw new Error("expected two masks");
    expect(cols.mode).toBe("columns");
    expect(sexp(cols.targets)).toBe('["users.email"]');
    expect(cols.when && sexp(cols.when)).toBe("(== connection.kind postgres)");
    expect(cols.unless && sexp(cols.unless)).toBe("x");
    expect(cols.options.map((o) => `${o.key.name}=${sexp(o.value)}`)).toEqual(["with=partial(4)"]);
    expect(detect.mode).toBe("detect");
    expect(sexp(detect.targets)).toBe("[credit_card us_ssn]");
    expect(detect.options).toEqual([]);
  });

  it("parses limits", () => {
    const [limit] = policy("limit rows = 10000 per session").body;
    if (limit?.kind !== "limit") throw new Error("expected a limit");
    expect([limit.measure.name, sexp(limit.value), limit.per.name]).toEqual(["rows", "10000", "session"]);
  });

  it("treats an effect word followed by `=` as an attribute", () => {
    const [m] = policy("deny = true").body;
    expect(m?.kind).toBe("attribute");
  });
});

describe("test members", () => {
  it("parses every expectation", () => {
    const t = testDecl(
      [
        "subject = { iss = \"i\", sub = \"s\" }",
        "connection = connection.orders-db",
        'expect deny sql "DROP TABLE users"',
        'expect allow ssh "uptime" on connection.bastion',
        'expect masked columns ["users.email"]',
        'expect masked columns ["users.email"] on connection.x',
        "expect refused",
        "expect refused on connection.y",
      ].join("\n"),
    );
    const shapes = t.body.map((m) => {
      if (m.kind === "attribute") return `${m.key.name}=${sexp(m.value)}`;
      const on = m.on ? ` on ${sexp(m.on)}` : "";
      if (m.expect === "decision") return `${m.effect} ${m.protocol} ${m.input.value}${on}`;
      if (m.expect === "masked") return `masked ${sexp(m.columns)}${on}`;
      return `refused${on}`;
    });
    expect(shapes).toEqual([
      'subject={iss="i" sub="s"}',
      "connection=connection.orders-db",
      "deny sql DROP TABLE users",
      "allow ssh uptime on connection.bastion",
      'masked ["users.email"]',
      'masked ["users.email"] on connection.x',
      "refused",
      "refused on connection.y",
    ]);
  });

  it("requires a string as the input of a decision", () => {
    const d = firstError("test t { expect deny sql DROP }");
    expect([d.code, d.message, d.span.start.column, d.expected]).toEqual([PARSE_CODES.syntax, 'unexpected "DROP"', 26, ["string"]]);
  });
});

describe("expressions", () => {
  it("binds or < and < not < comparison", () => {
    expect(sexp(expr("a or b and c"))).toBe("(or a (and b c))");
    expect(sexp(expr("a and b or c"))).toBe("(or (and a b) c)");
    expect(sexp(expr("a and b and c"))).toBe("(and (and a b) c)");
    expect(sexp(expr("not a and b"))).toBe("(and (not a) b)");
    expect(sexp(expr("not a == b"))).toBe("(not (== a b))");
    expect(sexp(expr("not not a"))).toBe("(not (not a))");
    expect(sexp(expr("(a or b) and c"))).toBe("(and (or a b) c)");
    expect(sexp(expr("(not a) == b"))).toBe("(== (not a) b)");
  });

  it("parses every comparison operator", () => {
    for (const op of ["==", "!=", "<", "<=", ">", ">=", "in", "has_any", "has_all", "within", "like", "matches"]) {
      const e = expr(`x ${op} y`) as BinaryExpr;
      expect([e.kind, e.op]).toEqual(["binary", op]);
    }
    expect(sexp(expr("a<=b"))).toBe("(<= a b)");
  });

  it("does not chain comparisons", () => {
    const d = firstError("group g { when = a == b == c }");
    expect([d.code, d.span.start.line, d.span.start.column]).toEqual([PARSE_CODES.chainedComparison, 1, 18]);
    expect(sexp(expr("(a == b) == c"))).toBe("(== (== a b) c)");
  });

  it("continues an expression onto the next line after an operator", () => {
    expect(sexp(expr("a and\n  b or\n  not\n  c"))).toBe("(or (and a b) (not c))");
    expect(sexp(expr("(\n  a\n)"))).toBe("a");
  });

  it("parses literals", () => {
    expect(expr('"x"')).toMatchObject({ kind: "string", value: "x" });
    expect(expr("42")).toMatchObject({ kind: "number", value: 42, raw: "42" });
    expect(expr("-1.25")).toMatchObject({ kind: "number", value: -1.25, raw: "-1.25" });
    expect(expr("true")).toMatchObject({ kind: "bool", value: true });
    expect(expr("false")).toMatchObject({ kind: "bool", value: false });
    expect(expr("30s")).toMatchObject({ kind: "duration", amount: 30, unit: "s", ms: 30_000 });
    expect(expr("15m")).toMatchObject({ kind: "duration", amount: 15, unit: "m", ms: 900_000 });
    expect(expr("2h")).toMatchObject({ kind: "duration", amount: 2, unit: "h", ms: 7_200_000 });
    expect(expr("7d")).toMatchObject({ kind: "duration", amount: 7, unit: "d", ms: 604_800_000 });
  });

  it("decodes string escapes", () => {
    const e = expr(String.raw`"q\" b\\ n\n t\t u\u{1F600}\u{41} # not a comment // nor this"`);
    expect(e).toMatchObject({ kind: "string", value: 'q" b\\ n\n t\t u😀A # not a comment // nor this' });
  });

  it("parses lists, objects, calls and refs", () => {
    expect(sexp(expr("[]"))).toBe("[]");
    expect(sexp(expr("[a, b,]"))).toBe("[a b]");
    expect(sexp(expr('[\n  "a",\n  "b"\n  ,\n]'))).toBe('["a" "b"]');
    expect(sexp(expr("{}"))).toBe("{}");
    expect(sexp(expr("{ a = 1, b = { c = [2] } }"))).toBe("{a=1 b={c=[2]}}");
    expect(sexp(expr("{\n  a = 1,\n  b = 2\n}"))).toBe("{a=1 b=2}");
    expect(sexp(expr("partial(4)"))).toBe("partial(4)");
    expect(sexp(expr("f()"))).toBe("f()");
    expect(sexp(expr("f(1, [x],)"))).toBe("f(1 [x])");
    const ref = expr("group.ci-deploy.x_y");
    expect(ref.kind === "ref" && ref.segments.map((s) => s.name)).toEqual(["group", "ci-deploy", "x_y"]);
  });

  it("keeps bare enum words and keyword-prefixed words as refs", () => {
    expect(sexp(expr("[drop, exec, select, in-house, android, notify, order, truex, when_x]"))).toBe(
      "[drop exec select in-house android notify order truex when_x]",
    );
    expect(sexp(expr("claims.in"))).toBe("claims.in");
  });

  it("rejects a keyword where a value is expected", () => {
    const d = firstError("group g { when = and }");
    expect([d.code, d.message, d.expected]).toEqual([PARSE_CODES.syntax, 'unexpected "and"', ["expression"]]);
  });
});

describe("spans", () => {
  it("gives 1-based lines and columns, 0-based offsets, and the file", () => {
    const text = "connection c {\n  kind = postgres\n}\n\ngroup g {\n  when = not a.b == \"x\"\n}\n";
    const file = parseOk(text, "dir/spans.hoop");
    const [conn, group] = file.items;
    if (conn?.kind !== "connection" || group?.kind !== "group") throw new Error("unexpected items");
    expect(conn.span).toEqual({
      file: "dir/spans.hoop",
      start: { offset: 0, line: 1, column: 1 },
      end: { offset: 34, line: 3, column: 2 },
    });
    expect(conn.name.span.start).toEqual({ offset: 11, line: 1, column: 12 });
    const kind = conn.attributes[0]!;
    expect([kind.span.start, kind.span.end]).toEqual([
      { offset: 17, line: 2, column: 3 },
      { offset: 32, line: 2, column: 18 },
    ]);
    expect(text.slice(kind.value.span.start.offset, kind.value.span.end.offset)).toBe("postgres");

    const not = group.attributes[0]!.value;
    if (not.kind !== "not" || not.operand.kind !== "binary") throw new Error("expected not (a == b)");
    const cmp = not.operand;
    const at = (s: { start: { offset: number }; end: { offset: number } }) => text.slice(s.start.offset, s.end.offset);
    expect(at(not.span)).toBe('not a.b == "x"');
    expect(at(cmp.span)).toBe('a.b == "x"');
    expect(at(cmp.opSpan)).toBe("==");
    expect(cmp.opSpan.start).toMatchObject({ line: 6, column: 18 });
    const ref = cmp.left;
    if (ref.kind !== "ref") throw new Error("expected a ref");
    expect(ref.segments.map((s) => at(s.span))).toEqual(["a", "b"]);
  });

  it("spans rules, effects and expectations", () => {
    const text = 'policy p {\n  deny when x { reason = "r" }\n}\ntest t {\n  expect review sql "q" on connection.c\n}';
    const [p, t] = parseOk(text).items as [PolicyDecl, TestDecl];
    const at = (s: { start: { offset: number }; end: { offset: number } }) => text.slice(s.start.offset, s.end.offset);
    const rule = p.body[0]!;
    if (rule.kind !== "rule") throw new Error("expected a rule");
    expect(at(rule.span)).toBe('deny when x { reason = "r" }');
    expect(at(rule.effectSpan)).toBe("deny");
    const e = t.body[0]!;
    if (e.kind !== "expect" || e.expect !== "decision") throw new Error("expected a decision");
    expect(at(e.span)).toBe('expect review sql "q" on connection.c');
    expect(at(e.effectSpan)).toBe("review");
    expect(at(e.input.span)).toBe('"q"');
  });

  it("spans comments without their line end", () => {
    const file = parseOk("connection c { # hi  \r\n}\n// end");
    expect(file.comments).toEqual([
      { text: "# hi  ", span: { file: "t.hoop", start: { offset: 15, line: 1, column: 16 }, end: { offset: 21, line: 1, column: 22 } } },
      { text: "// end", span: { file: "t.hoop", start: { offset: 25, line: 3, column: 1 }, end: { offset: 31, line: 3, column: 7 } } },
    ]);
  });
});

describe("syntax errors", () => {
  it("reports what was found, where, and what was expected", () => {
    const d = firstError("connection x {\n  kind postgres\n}");
    expect(d).toEqual({
      code: "HG0001",
      severity: "error",
      message: 'unexpected "postgres"',
      expected: ['"="'],
      span: { file: "bad.hoop", start: { offset: 22, line: 2, column: 8 }, end: { offset: 30, line: 2, column: 16 } },
    });
  });

  it("lists the item keywords at the top level", () => {
    const d = firstError("connection a {}\nconnexion b {}");
    expect([d.message, d.span.start.line, d.span.start.column, d.expected]).toEqual([
      'unexpected "connexion"',
      2,
      1,
      ['"connection"', '"group"', '"policy"', '"test"', "end of file"],
    ]);
  });

  it("reports an unexpected end of file", () => {
    const d = firstError("policy p {\n  deny when a and\n");
    expect([d.code, d.message, d.span.start.line, d.span.start.column, d.expected]).toEqual([
      "HG0001",
      "unexpected end of file",
      3,
      1,
      ["expression"],
    ]);
    expect(firstError("policy p {").expected).toEqual(['"allow"', '"deny"', '"limit"', '"mask"', '"review"', '"}"', "identifier"]);
  });

  it("reports an unterminated string at its opening quote", () => {
    const d = firstError('connection x {\n  kind = "postgres\n}');
    expect([d.code, d.message, d.span.start.line, d.span.start.column, d.span.end.column]).toEqual([
      PARSE_CODES.unterminatedString,
      "unterminated string",
      2,
      10,
      19,
    ]);
  });

  it("reports bad durations", () => {
    for (const [text, message] of [
      ["10ms", 'unknown duration unit "ms": use s, m, h or d'],
      ["5x", 'unknown duration unit "x": use s, m, h or d'],
      ["1.5h", "a duration is a whole, non-negative number of s, m, h or d"],
      ["-5m", "a duration is a whole, non-negative number of s, m, h or d"],
      ["999999999999999999d", "duration out of range"],
    ] as const) {
      const d = firstError(`policy p { limit rows = ${text} per session }`);
      expect([d.code, d.message, d.span.start.column]).toEqual([PARSE_CODES.badDuration, message, 25]);
    }
  });

  it("reports bad escapes and code points", () => {
    const bad = firstError(String.raw`group g { when = "a\qb" }`);
    expect([bad.code, bad.span.start.column]).toEqual([PARSE_CODES.badEscape, 20]);
    expect(bad.message).toContain("invalid escape \\q");
    const cp = firstError(String.raw`group g { when = "\u{110000}" }`);
    expect([cp.code, cp.message]).toEqual([PARSE_CODES.badEscape, "invalid code point \\u{110000}"]);
  });

  it("reports numbers too large to represent", () => {
    expect(firstError(`group g { when = ${"9".repeat(400)} }`).code).toBe(PARSE_CODES.numberOutOfRange);
  });

  it("reports nesting too deep to parse instead of overflowing", () => {
    const d = firstError(`group g { when = ${"(".repeat(50_000)}x${")".repeat(50_000)} }`);
    expect(d.code).toBe(PARSE_CODES.tooDeep);
  });

  it("renders as a code frame", () => {
    const text = "connection x {\n  kind postgres\n}";
    const d = firstError(text);
    const out = renderDiagnostic(d, { color: false, sources: new Map([["bad.hoop", text]]) });
    expect(out).toBe(
      [
        'bad.hoop:2:8: error[HG0001]: unexpected "postgres"',
        "  |",
        "1 | connection x {",
        "2 |   kind postgres",
        "  |        ^^^^^^^^",
        '  = expected "="',
      ].join("\n"),
    );
  });
});

describe("never throws", () => {
  function check(text: string): void {
    const r = parseSource("fuzz.hoop", text);
    expect(r.file === undefined).toBe(r.diagnostics.length > 0);
    for (const d of r.diagnostics) {
      expect(d.code).toMatch(/^HG000[1-7]$/);
      expect(d.span.start.offset).toBeGreaterThanOrEqual(0);
      expect(d.span.start.offset).toBeLessThanOrEqual(text.length);
      expect(d.span.start.line).toBeGreaterThanOrEqual(1);
      expect(d.span.start.column).toBeGreaterThanOrEqual(1);
    }
  }

  it("on every truncation of the DESIGN example", () => {
    for (let n = 0; n <= DESIGN_EXAMPLE.length; n += 7) check(DESIGN_EXAMPLE.slice(0, n));
  });

  it("on random edits of the DESIGN example", () => {
    const random = seededRandom(0x5eed);
    const alphabet = ' \n\t"\\{}[](),.=<>!#/-_0123456789smhdazAZ\u00e9\u{1F600}';
    for (let i = 0; i < 400; i++) {
      let text = DESIGN_EXAMPLE;
      for (let k = 1 + Math.floor(random() * 4); k > 0; k--) {
        const at = Math.floor(random() * text.length);
        const len = Math.floor(random() * 6);
        const insert = [...Array(Math.floor(random() * 4))].map(() => [...alphabet][Math.floor(random() * [...alphabet].length)]).join("");
        text = text.slice(0, at) + insert + text.slice(at + len);
      }
      check(text);
    }
  });

  it("on random token soup", () => {
    const random = seededRandom(42);
    const tokens = ["connection", "policy", "test", "group", "x", "{", "}", "[", "]", "(", ")", "=", "==", ",", "\n", " ", "when", "unless", "and", "not", "deny", "mask", "columns", "expect", "sql", '"s"', '"', "15m", "-1", "#c\n", "."];
    for (let i = 0; i < 400; i++) {
      const n = Math.floor(random() * 40);
      check([...Array(n)].map(() => tokens[Math.floor(random() * tokens.length)]).join(" "));
    }
  });
});

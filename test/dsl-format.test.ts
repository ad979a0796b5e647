import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { formatSource, parseSource, type SourceFile } from "../dsl/index.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SEARCHED = ["examples", "test/fixtures"];

/** Every `.hoop` file under examples/ and test/fixtures/, found when the tests run. */
function hoopFiles(): string[] {
  const files: string[] = [];
  for (const dir of SEARCHED) {
    let entries: string[];
    try {
      entries = readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" });
    } catch {
      continue; // a folder nobody has created yet
    }
    files.push(...entries.filter((e) => e.endsWith(".hoop")).map((e) => join(dir, e)));
  }
  return files.sort();
}

const FILES = hoopFiles();
if (!FILES.includes(join("test", "fixtures", "design-example.hoop"))) {
  throw new Error(`test/fixtures/design-example.hoop is missing; found only: ${FILES.join(", ") || "no .hoop files"}`);
}

function parseOk(text: string, path = "t.hoop"): SourceFile {
  const r = parseSource(path, text);
  if (!r.file) throw new Error(`does not parse: ${JSON.stringify(r.diagnostics, null, 2)}\n--- text ---\n${text}`);
  return r.file;
}

/** The AST without positions, source text and comments: what formatting must preserve. */
function meaning(file: SourceFile): unknown {
  return JSON.parse(
    JSON.stringify(file.items, (key, value: unknown) => (key === "span" || key === "opSpan" || key === "effectSpan" ? undefined : value)),
  );
}

function fmt(text: string): string {
  return formatSource(parseOk(text));
}

/** Asserts the two properties every formatting must have, and returns the output. */
function checkFormat(text: string, path = "t.hoop"): string {
  const before = parseOk(text, path);
  const once = formatSource(before);
  const after = parseOk(once, path);
  expect(meaning(after)).toEqual(meaning(before));
  expect(after.comments.map((c) => c.text.trimEnd())).toEqual(before.comments.map((c) => c.text.trimEnd()));
  expect(formatSource(after)).toBe(once);
  return once;
}

describe("every .hoop file in the repository", () => {
  it("finds files to check", () => {
    expect(FILES.length, `no .hoop files under ${SEARCHED.join(" or ")}`).toBeGreaterThan(0);
  });

  it.each(FILES)("%s: formats idempotently and keeps its meaning and comments (or reports diagnostics)", (file) => {
    const text = readFileSync(join(ROOT, file), "utf8");
    const parsed = parseSource(file, text);
    if (!parsed.file) {
      // A fixture of deliberate errors: it must be reported, not formatted.
      expect(parsed.diagnostics.length).toBeGreaterThan(0);
      return;
    }
    checkFormat(text, relative(ROOT, join(ROOT, file)));
  });
});

describe("canonical form", () => {
  it("puts one member per line, indented by two spaces, one blank line between items", () => {
    expect(fmt(`connection a { kind = postgres, tags = ["x"] }   connection b {kind=ssh}\n\n\n\ngroup g {}`)).toBe(
      ["connection a {", "  kind = postgres", '  tags = ["x"]', "}", "", "connection b {", "  kind = ssh", "}", "", "group g {}", ""].join("\n"),
    );
  });

  it("aligns `=` across consecutive single-line attributes only", () => {
    const text = [
      "test t {",
      "  a = 1",
      "  long-key = 2",
      "",
      "  b = 3",
      "  subject = { iss = \"https://token.actions.githubusercontent.com\", sub = \"repo:acme/api:ref:refs/heads/main\" }",
      "  c = 4",
      '  expect refused',
      "  dd = 5",
      "}",
    ].join("\n");
    expect(checkFormat(text)).toBe(
      [
        "test t {",
        "  a        = 1",
        "  long-key = 2",
        "",
        "  b       = 3",
        "  subject = {",
        '    iss = "https://token.actions.githubusercontent.com"',
        '    sub = "repo:acme/api:ref:refs/heads/main"',
        "  }",
        "  c = 4",
        "  expect refused",
        "  dd = 5",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("aligns the effects of consecutive rules and the verbs of consecutive expectations", () => {
    const text = [
      "policy p {",
      "  deny when a",
      "  allow",
      "  review when b",
      "  allow when c",
      "  mask detect [x]",
      "  deny when d",
      "}",
      "test t {",
      '  expect deny sql "a"',
      "  expect refused",
      '  expect allow sql "b"',
      "}",
    ].join("\n");
    expect(checkFormat(text)).toBe(
      [
        "policy p {",
        "  deny   when a",
        "  allow",
        "  review when b",
        "  allow  when c",
        "  mask detect [x]",
        "  deny when d",
        "}",
        "",
        "test t {",
        '  expect deny    sql "a"',
        "  expect refused",
        '  expect allow   sql "b"',
        "}",
        "",
      ].join("\n"),
    );
  });

  it("keeps short objects and options on one line and breaks long ones", () => {
    const long = `"${"x".repeat(90)}"`;
    expect(checkFormat(`policy p {\n  deny when a { reason = "r", id = "i" }\n  deny when b { reason = ${long} }\n}`)).toBe(
      ["policy p {", '  deny when a { reason = "r", id = "i" }', "  deny when b {", `    reason = ${long}`, "  }", "}", ""].join("\n"),
    );
    expect(checkFormat(`group g { when = { a = { b = 1 }, c = [{ d = 2 }] } }`)).toBe(
      ["group g {", "  when = { a = { b = 1 }, c = [{ d = 2 }] }", "}", ""].join("\n"),
    );
  });

  it("drops parentheses that precedence makes redundant and keeps the others", () => {
    const cases: [string, string][] = [
      ["(a and b) and c", "a and b and c"],
      ["a and (b and c)", "a and (b and c)"],
      ["(a or b) and c", "(a or b) and c"],
      ["a or (b and c)", "a or b and c"],
      ["not (a == b)", "not a == b"],
      ["(not a) == b", "(not a) == b"],
      ["not (a and b)", "not (a and b)"],
      ["not (not a)", "not not a"],
      ["(a == b) == c", "(a == b) == c"],
      ["a == (b == c)", "a == (b == c)"],
      ["((x))", "x"],
      ["[(a or b), f((c))]", "[a or b, f(c)]"],
      ["a==b", "a == b"],
      ["x   in   [ 1 ,2, ]", "x in [1, 2]"],
    ];
    for (const [input, output] of cases) {
      expect(checkFormat(`group g { when = ${input} }`)).toBe(`group g {\n  when = ${output}\n}\n`);
    }
  });

  it("re-escapes strings canonically", () => {
    expect(checkFormat(String.raw`group g { when = "a\u{22}b\u{5c}c\u{a}d\u{9}e\u{1}f\u{e9}\u{1F600}" }`)).toBe(
      `group g {\n  when = "a\\"b\\\\c\\nd\\te\\u{1}f\u00e9\u{1F600}"\n}\n`,
    );
  });

  it("prints every policy and test member", () => {
    const text = [
      "policy p {",
      "  allow",
      "  review unless a",
      "  mask detect [x] when b unless c { with = redact }",
      "  limit bytes = 1048576 per statement",
      "}",
      "test t {",
      '  expect deny    ssh "rm -rf /" on connection.b',
      '  expect masked  columns ["users.email"] on connection.a',
      "  expect refused on connection.c",
      "  timeout = 90m",
      "}",
    ].join("\n");
    expect(checkFormat(text)).toBe(`${text.replace("}\ntest", "}\n\ntest")}\n`);
  });
});

describe("comments", () => {
  it("keeps standalone comments before what follows them, and trailing ones on their line", () => {
    const text = [
      "# file header",
      "",
      "# about c",
      "connection c { # on the brace line",
      "  kind = postgres # trailing",
      "",
      "",
      "  # before tags",
      "  tags = []",
      "  # dangling",
      "} # after the item",
      "// the end",
    ].join("\n");
    expect(checkFormat(text)).toBe(
      [
        "# file header",
        "",
        "# about c",
        "connection c { # on the brace line",
        "  kind = postgres # trailing",
        "",
        "  # before tags",
        "  tags = []",
        "  # dangling",
        "} # after the item",
        "",
        "// the end",
        "",
      ].join("\n"),
    );
  });

  it("moves comments from inside one-line constructs to the line before the member", () => {
    const text = ["policy p {", "  connections = [", "    tag.prod, # prod", "    tag.eu,   # eu", "  ]", "  deny when a and # why", "    b", "}"].join("\n");
    expect(checkFormat(text)).toBe(
      ["policy p {", "  # prod", "  # eu", "  connections = [tag.prod, tag.eu]", "  # why", "  deny when a and b", "}", ""].join("\n"),
    );
  });

  it("keeps comments inside objects and options by breaking them over lines", () => {
    const text = ["test t {", "  subject = { iss = \"i\", # the issuer", "    sub = \"s\" }", "}", "policy p {", "  deny when x { reason = \"r\" # why", "  }", "}"].join("\n");
    expect(checkFormat(text)).toBe(
      [
        "test t {",
        "  subject = {",
        '    iss = "i" # the issuer',
        '    sub = "s"',
        "  }",
        "}",
        "",
        "policy p {",
        "  deny when x {",
        '    reason = "r" # why',
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("keeps a comment inside an empty block", () => {
    expect(checkFormat("connection c {\n  # nothing yet\n}")).toBe("connection c {\n  # nothing yet\n}\n");
    expect(checkFormat("test t { x = {\n # empty\n} }")).toBe("test t {\n  x = {\n    # empty\n  }\n}\n");
  });

  it("formats an empty file and a file of comments", () => {
    expect(fmt("")).toBe("");
    expect(fmt("\n\n")).toBe("");
    expect(checkFormat("# a\n\n\n# b   \n")).toBe("# a\n\n# b\n");
  });
});

describe("formatting never changes meaning", () => {
  it("on random edits of the DESIGN example that still parse", () => {
    const base = readFileSync(join(ROOT, "test/fixtures/design-example.hoop"), "utf8");
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const snippets = ["\n", ",", " # c\n", "(", ")", " and x", " or not y", "{ a = 1 }", "[1,]", '"\\t"', "\n\n"];
    let checked = 0;
    for (let i = 0; i < 120; i++) {
      const at = Math.floor(random() * base.length);
      const text = base.slice(0, at) + snippets[Math.floor(random() * snippets.length)] + base.slice(at);
      if (parseSource("m.hoop", text).file) {
        checkFormat(text);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(15);
  });
});

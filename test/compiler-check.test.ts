// `hoopgate check` on broken fixtures: each prints the right located error. Each fixture's
// first line says what it expects: `# expect: CODE LINE:COL`.

import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compilePaths } from "../compiler/index.js";

const dir = join(import.meta.dirname, "broken");
const fixtures = readdirSync(dir).filter((f) => f.endsWith(".hoop")).sort();

describe("hoopgate check on broken fixtures", () => {
  it("has at least a dozen fixtures", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(12);
  });

  for (const name of fixtures) {
    it(name, () => {
      const path = join("test/broken", name);
      const header = /^# expect: (HG\d{4}) (\d+):(\d+)$/.exec(readFileSync(path, "utf8").split("\n")[0]!);
      expect(header, `${name} lacks its '# expect: CODE LINE:COL' header`).not.toBeNull();
      const [, code, line, column] = header!;
      const result = compilePaths([path]);
      expect(result.bundle).toBeUndefined();
      const d = result.diagnostics.find((x) => x.severity === "error");
      expect({ code: d?.code, line: d?.span.start.line, column: d?.span.start.column }).toEqual({
        code,
        line: Number(line),
        column: Number(column),
      });

      const cli = spawnSync(process.execPath, ["bin/hoopgate.js", "check", path], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
      expect(cli.status).toBe(1);
      expect(cli.stderr).toContain(`${path}:${line}:${column}: error[${code}]`);
      expect(cli.stderr).toMatch(/\n\s*\d+ \| /); // a code frame
    });
  }

  it("reports every error, not just the first", () => {
    const result = compilePaths(["test/broken/02-unknown-attribute.hoop", "test/broken/04-unknown-enum-word.hoop", "test/broken/09-unknown-key.hoop"]);
    const codes = result.diagnostics.filter((d) => d.severity === "error").map((d) => d.code);
    expect(codes).toEqual(expect.arrayContaining(["HG2001", "HG2003", "HG1002"]));
  });

  it("suggests the closest name", () => {
    const result = compilePaths(["test/broken/02-unknown-attribute.hoop"]);
    expect(result.diagnostics[0]!.help).toBe("did you mean `sql.command`?");
  });

  it("prints JSON for machines", () => {
    const cli = spawnSync(process.execPath, ["bin/hoopgate.js", "check", "--format", "json", "test/broken/07-unknown-group.hoop"], { encoding: "utf8" });
    expect(cli.status).toBe(1);
    const out = JSON.parse(cli.stdout) as { ok: boolean; diagnostics: { code: string }[] };
    expect(out.ok).toBe(false);
    expect(out.diagnostics[0]!.code).toBe("HG1004");
  });
});

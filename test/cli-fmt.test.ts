// `hoopgate fmt`: prints the canonical form, --check fails on a difference, --write fixes it.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const hoopgate = (...args: string[]) => spawnSync(process.execPath, ["bin/hoopgate.js", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });

describe("hoopgate fmt", () => {
  const messy = `connection db {kind=postgres,tags=["prod"]}\n# who\ngroup ci {issuer="https://ci" , when=claims.ref=="main"}\n`;

  it("--check fails on an unformatted file, --write formats it, then --check passes", () => {
    const dir = mkdtempSync(join(tmpdir(), "hoopgate-fmt-"));
    const file = join(dir, "p.hoop");
    writeFileSync(file, messy);
    const check = hoopgate("fmt", "--check", file);
    expect(check.status).toBe(1);
    expect(check.stderr).toContain("not formatted");
    expect(hoopgate("fmt", "--write", file).status).toBe(0);
    const formatted = readFileSync(file, "utf8");
    expect(formatted).toContain("# who\ngroup ci {");
    expect(hoopgate("fmt", "--check", file).status).toBe(0);
    expect(hoopgate("fmt", file).stdout).toBe(formatted);
  });

  it("keeps the example policy sets in canonical form", () => {
    const r = hoopgate("fmt", "--check", "examples/saas-postgres", "examples/platform-ci");
    expect(r.status, r.stderr).toBe(0);
  });
});

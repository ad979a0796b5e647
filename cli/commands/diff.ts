import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { decisionChanges, type DiffCase } from "../../compiler/diff.js";
import { compilePaths } from "../../compiler/index.js";
import { oneOf, parse, UsageError } from "../args.js";
import { engineFrom } from "../engine-source.js";

export const summary = "decisions that change between --base DIR|GITREF and the working tree (tests and --corpus)";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    base: { type: "string" },
    corpus: { type: "string" },
    format: { type: "string" },
  });
  const format = oneOf(values.format, ["pretty", "json"], "--format", "pretty");
  if (!values.base) throw new UsageError("--base DIR|GITREF is required");
  const paths = positionals.length > 0 ? positionals : ["."];

  const checkout = isDir(values.base) ? undefined : exportGitRef(values.base);
  try {
    const basePaths = checkout ? paths.map((p) => join(checkout.dir, checkout.prefix(p))) : [values.base];
    const baseEngine = await engineFrom(basePaths, undefined);
    const headEngine = await engineFrom(paths, undefined);
    if (!baseEngine || !headEngine) return 1;
    const cases: DiffCase[] = [];
    for (const compiled of [compilePaths(paths), compilePaths(basePaths)]) {
      for (const t of compiled.program?.tests ?? []) {
        for (const e of t.expectations) {
          if (e.kind === "decision") cases.push({ origin: `test ${t.name}`, claims: t.claims, connection: e.connection, [e.protocol]: e.input });
        }
      }
    }
    if (values.corpus) cases.push(...readCorpus(values.corpus));
    const changes = await decisionChanges(baseEngine, headEngine, cases);
    if (format === "json") process.stdout.write(`${JSON.stringify({ evaluated: changes.evaluated, changes: changes.changes }, null, 2)}\n`);
    else {
      for (const c of changes.changes) {
        process.stdout.write(`${c.origin}: ${c.sql !== undefined ? `sql ${JSON.stringify(c.sql)}` : `ssh ${JSON.stringify(c.ssh)}`} on ${c.connection}: ${c.base.effect} → ${c.head.effect}${c.head.rules.length ? ` (${c.head.rules.join(", ")})` : ""}\n`);
      }
      process.stderr.write(`${changes.changes.length} decision(s) change out of ${changes.evaluated} evaluated\n`);
    }
    return 0;
  } finally {
    if (checkout) rmSync(checkout.dir, { recursive: true, force: true });
  }
}

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

/** `git archive REF` into a temp dir; paths map from the working tree to the same place in it. */
function exportGitRef(ref: string): { dir: string; prefix(p: string): string } {
  let top: string;
  try {
    top = execFileSync("git", ["rev-parse", "--show-toplevel"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    execFileSync("git", ["rev-parse", "--verify", `${ref}^{commit}`], { stdio: "ignore" });
  } catch {
    throw new UsageError(`--base ${ref}: neither a directory nor a git commit here`);
  }
  const dir = mkdtempSync(join(tmpdir(), "hoopgate-diff-"));
  const tar = execFileSync("git", ["archive", "--format=tar", ref], { cwd: top, maxBuffer: 1 << 30 });
  execFileSync("tar", ["-x", "-C", dir], { input: tar });
  return { dir, prefix: (p) => relative(top, resolve(p)) };
}

function readCorpus(file: string): DiffCase[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((line, i) => {
      let v: Record<string, unknown>;
      try {
        v = JSON.parse(line) as Record<string, unknown>;
      } catch (err) {
        throw new UsageError(`${file}:${i + 1}: not JSON: ${(err as Error).message}`);
      }
      const { subject, connection, sql, ssh } = v;
      if (typeof subject !== "object" || subject === null || typeof connection !== "string" || (typeof sql !== "string" && typeof ssh !== "string")) {
        throw new UsageError(`${file}:${i + 1}: expected {"subject": {...claims}, "connection": "NAME", "sql"|"ssh": "..."}`);
      }
      return {
        origin: `${file}:${i + 1}`,
        claims: subject as Record<string, unknown>,
        connection,
        ...(typeof sql === "string" ? { sql } : { ssh: ssh as string }),
      };
    });
}

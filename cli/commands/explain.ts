import { readFileSync } from "node:fs";
import { explain, type Explanation } from "../../compiler/explain.js";
import { oneOf, parse, UsageError } from "../args.js";
import { engineFrom, parseSubject } from "../engine-source.js";

export const summary = "show the decision for one identity, connection and statement (--sql, --ssh, --sql-file)";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    bundle: { type: "string" },
    subject: { type: "string" },
    connection: { type: "string" },
    sql: { type: "string" },
    ssh: { type: "string" },
    "sql-file": { type: "string" },
    format: { type: "string" },
  });
  const format = oneOf(values.format, ["pretty", "json"], "--format", "pretty");
  const claims = parseSubject(values.subject);
  if (!values.connection) throw new UsageError("--connection NAME is required");
  const inputs = [values.sql, values.ssh, values["sql-file"]].filter((v) => v !== undefined).length;
  if (inputs !== 1) throw new UsageError("give exactly one of --sql TEXT, --ssh CMD, --sql-file FILE");
  const engine = await engineFrom(positionals, values.bundle);
  if (!engine) return 1;
  const connection = values.connection;

  if (values["sql-file"]) {
    const lines = readFileSync(values["sql-file"], "utf8").split("\n").filter((l) => l.trim() !== "");
    for (const [i, line] of lines.entries()) {
      let sql: unknown;
      try {
        sql = (JSON.parse(line) as { sql?: unknown }).sql;
      } catch (err) {
        throw new UsageError(`${values["sql-file"]}:${i + 1}: not JSON: ${(err as Error).message}`);
      }
      if (typeof sql !== "string") throw new UsageError(`${values["sql-file"]}:${i + 1}: expected {"sql": "..."}`);
      process.stdout.write(`${JSON.stringify(await explain(engine, { claims, connection, sql }))}\n`);
    }
    return 0;
  }
  const result = await explain(engine, { claims, connection, ...(values.sql !== undefined ? { sql: values.sql } : { ssh: values.ssh! }) });
  process.stdout.write(format === "json" ? `${JSON.stringify(result, null, 2)}\n` : pretty(result));
  return result.effect === "deny" || result.effect === "refused" ? 1 : 0;
}

function pretty(r: Explanation): string {
  const out = [`${r.effect.toUpperCase()}: ${r.reason}`];
  if (r.rules.length) out.push(`  rules: ${r.rules.join(", ")}`);
  if (r.approvers.length) out.push(`  approvers: ${r.approvers.join(", ")}`);
  for (const [i, s] of r.statements.entries()) {
    out.push(`  statement ${i + 1}: ${s.command} → ${s.effect}${s.rules.length ? ` (${s.rules.join(", ")})` : ""}`);
    if (s.tables.length) out.push(`    tables: ${s.tables.join(", ")}`);
    if (s.functions.length) out.push(`    functions: ${s.functions.join(", ")}`);
  }
  for (const m of r.masks) out.push(`  mask: ${"column" in m ? m.column : `detect ${m.detect}`} with ${m.with}`);
  return `${out.join("\n")}\n`;
}

// Compile time of a generated 10,000-rule policy set, end to end (parse, check, lower).

import { compileSources } from "../compiler/index.js";
import type { BenchReport } from "./report.js";

export function generatePolicySet(rules: number): string {
  const lines = [
    `connection db {\n  kind = postgres\n  tags = ["prod"]\n}`,
    `group ci {\n  issuer = "https://ci.example"\n  when   = claims.repository like "acme/*"\n}`,
    `group dba {\n  issuer = "https://login.example"\n  when   = "dba" in claims.groups\n}`,
  ];
  const perPolicy = 50;
  const commands = ["select", "insert", "update", "delete", "create", "alter", "drop", "truncate"];
  for (let p = 0; p < rules / perPolicy; p++) {
    const body = [`policy p${p} {`, `  subjects    = [group.ci]`, `  connections = [tag.prod]`];
    for (let r = 0; r < perPolicy; r++) {
      const n = p * perPolicy + r;
      const cmd = commands[n % commands.length];
      switch (n % 4) {
        case 0:
          body.push(`  deny when sql.command == ${cmd} and sql.tables has_any ["t${n}", "public.t${n}"] { reason = "table t${n} is frozen" }`);
          break;
        case 1:
          body.push(`  allow when sql.command in [select, ${cmd}] and claims.repository == "acme/svc-${n}"`);
          break;
        case 2:
          body.push(`  review when sql.command == ${cmd} and not sql.has_where and claims.env != "dev" { approvers = [group.dba], timeout = 10m }`);
          break;
        default:
          body.push(`  deny when sql.functions has_any ["f${n}"] or (time.hour < 6 and sql.tables has_any ["t${n}"])`);
      }
    }
    body.push("}");
    lines.push(body.join("\n"));
  }
  return `${lines.join("\n\n")}\n`;
}

export async function benchCompile(): Promise<BenchReport> {
  const text = generatePolicySet(10_000);
  const source = [{ path: "generated.hoop", text }];
  compileSources(source); // warm-up: JIT and the ReDoS checker's first load
  const times: number[] = [];
  let rules = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    const r = compileSources(source);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (!r.bundle) throw new Error(`generated policy set did not compile: ${r.diagnostics[0]?.message}`);
    rules = r.bundle.policies.reduce((n, p) => n + p.rules.length, 0);
  }
  times.sort((a, b) => a - b);
  const median = times[2]!;
  return {
    name: "compile",
    lines: [
      `compile ${rules.toLocaleString("en")} rules (${(text.length / 1e6).toFixed(1)} MB of .hoop): median ${median.toFixed(0)} ms of 5 runs (target < 1000 ms)`,
    ],
    figures: { compile_10k_ms: median },
  };
}

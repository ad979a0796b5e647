// pgbench through the gateway against three baselines measured in the same run: the machine's
// PostgreSQL directly, pgbouncer (session pooling) and a bare Node pipe proxy. Workloads:
// select-only (-S) in the simple, extended and prepared protocols, the default TPC-B-like
// script, and a 10,000-row result per statement with and without a column mask on it.

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { compileSources } from "../compiler/index.js";
import { canonicalJson } from "../runtime/bundle/canonical.js";
import type { GatewayConfig } from "../runtime/config/index.js";
import { startGateway } from "../runtime/gateway/index.js";
import { startDevIssuer } from "../runtime/identity/index.js";
import { createLogger } from "../runtime/log.js";
import { BENCH_DB, STORE_DB, prepareBenchDatabase } from "./pgbench-database.js";
import { startNodePipe } from "./node-pipe.js";
import { startPgbouncer } from "./pgbouncer.js";
import type { BenchReport } from "./report.js";

const run = promisify(execFile);
const DURATION_S = 4;
const ROUNDS = Number(process.env.HOOPGATE_BENCH_ROUNDS ?? 3);
const CLIENTS = 4;
const THREADS = 2;

interface Workload {
  name: string;
  args: string[];
  /** the gateway runs this one as the identity whose policy masks bench_large.email */
  masked?: boolean;
  /** ratio the gateway should reach against pgbouncer */
  target: number;
}

interface Endpoint {
  port: number;
  database: string;
  user: string;
  password?: string;
}

const PGBENCH_TABLES = ["pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history", "bench_large"]
  .flatMap((t) => [t, `public.${t}`]);

const policy = (issuer: string) => `
connection bench {
  kind = postgres
  tags = ["bench"]
}

group pgbench {
  issuer = "${issuer}"
  when   = claims.app == "pgbench"
}

group masked-readers {
  issuer = "${issuer}"
  when   = claims.app == "pgbench" and claims.masked == true
}

policy pgbench-workload {
  subjects    = [group.pgbench]
  connections = [tag.bench]

  deny  when sql.command in [drop, truncate, alter, grant, revoke] { reason = "no schema changes from the benchmark" }
  deny  when sql.functions has_any ["pg_read_file", "pg_ls_dir", "lo_export", "dblink_exec"]
  allow when sql.command in [select, insert, update, begin, commit, rollback, set, show] and sql.tables within ${JSON.stringify(PGBENCH_TABLES)}

  mask columns ["customers.email", "customers.phone"] { with = partial(4) }
}

policy masked-large-results {
  subjects    = [group.masked-readers]
  connections = [tag.bench]

  allow when sql.command == select
  mask columns ["bench_large.email"] { with = partial(4) }
}
`;

export async function benchPgbench(): Promise<BenchReport> {
  await checkTools();
  await prepareBenchDatabase();
  const dir = await mkdtemp(join(tmpdir(), "hoopgate-pgbench-"));
  const largeScript = join(dir, "large.sql");
  await writeFile(largeScript, "SELECT * FROM bench_large;\n");
  const workloads: Workload[] = [
    { name: "select-only (-S)", args: ["-S"], target: 0.8 },
    { name: "TPC-B-like (default)", args: [], target: 0.8 },
    { name: "select-only -M extended", args: ["-S", "-M", "extended"], target: 0.8 },
    { name: "select-only -M prepared", args: ["-S", "-M", "prepared"], target: 0.8 },
    { name: "10,000-row result", args: ["-f", largeScript], target: 0.8 },
    { name: "10,000-row result, masked", args: ["-f", largeScript], masked: true, target: 0.6 },
  ];

  const issuer = await startDevIssuer();
  const bouncer = await startPgbouncer(BENCH_DB);
  const pipe = await startNodePipe(BENCH_DB);
  const gateway = await startGateway(await gatewayConfig(dir, issuer.issuer, issuer.jwksUrl), { logger: createLogger({ level: "silent" }) });
  try {
    const direct: Endpoint = { port: BENCH_DB.port, database: BENCH_DB.database, user: BENCH_DB.user };
    const token = (masked: boolean) => issuer.issue({ sub: "pgbench", claims: { app: "pgbench", masked }, ttl: "1h" });
    const rows: Row[] = [];
    // Workloads with the same pgbench arguments share their baselines; every round runs the
    // baselines and the gateway back to back, so load that comes and goes hits them alike.
    for (const args of [...new Set(workloads.map((w) => w.args.join(" ")))]) {
      const group = workloads.filter((w) => w.args.join(" ") === args);
      const samples = { direct: [] as number[], pgbouncer: [] as number[], pipe: [] as number[], gateway: group.map(() => [] as number[]) };
      const through = await Promise.all(group.map(async (w): Promise<Endpoint> => ({
        port: gateway.ports.postgres as number, database: "bench", user: "pgbench", password: await token(w.masked ?? false),
      })));
      for (let round = 0; round < ROUNDS; round++) {
        samples.direct.push(await pgbench(direct, group[0]!.args));
        samples.pgbouncer.push(await pgbench({ ...direct, port: bouncer.port }, group[0]!.args));
        samples.pipe.push(await pgbench({ ...direct, port: pipe.port }, group[0]!.args));
        for (const [i, w] of group.entries()) samples.gateway[i]!.push(await pgbench(through[i]!, w.args));
      }
      for (const [i, workload] of group.entries()) {
        rows.push({ workload, direct: median(samples.direct), pgbouncer: median(samples.pgbouncer), pipe: median(samples.pipe), gateway: median(samples.gateway[i]!) });
      }
    }
    return report(rows);
  } finally {
    await gateway.close();
    await pipe.close();
    await bouncer.close();
    await issuer.close();
    await rm(dir, { recursive: true, force: true });
  }
}

interface Row {
  workload: Workload;
  direct: number;
  pgbouncer: number;
  pipe: number;
  gateway: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function checkTools(): Promise<void> {
  for (const tool of ["pgbench", "pgbouncer"]) {
    await run(tool, ["--version"]).catch(() => {
      throw new Error(`the pgbench bench needs ${tool} (Debian packages postgresql-client and pgbouncer)`);
    });
  }
}

async function gatewayConfig(dir: string, issuer: string, jwksUrl: string): Promise<GatewayConfig> {
  const compiled = compileSources([{ path: "bench.hoop", text: policy(issuer) }]);
  if (compiled.bundle === undefined) throw new Error(`bench policy: ${compiled.diagnostics.map((d) => d.message).join("; ")}`);
  const bundlePath = join(dir, "bundle.json");
  await writeFile(bundlePath, canonicalJson(compiled.bundle));
  return {
    file: join(dir, "gateway.yaml"),
    listen: { postgres: { host: "127.0.0.1", port: 0 } },
    bundle: { location: { kind: "file", path: bundlePath }, keys: [], reloadIntervalMs: 60_000, allowUnsigned: true },
    issuers: [{ issuer, audience: ["hoopgate"], jwks: { url: jwksUrl } }],
    connections: {
      bench: { name: "bench", target: { kind: "postgres", host: BENCH_DB.host, port: BENCH_DB.port, user: BENCH_DB.user, database: BENCH_DB.database } },
    },
    store: { kind: "postgres", url: `postgres://${BENCH_DB.user}@${BENCH_DB.host}:${BENCH_DB.port}/${STORE_DB}` },
    auth: { allowCleartextOnLoopback: true },
    log: { level: "silent" },
  };
}

async function pgbench(endpoint: Endpoint, args: string[]): Promise<number> {
  const { stdout } = await run(
    "pgbench",
    ["-n", "-T", String(DURATION_S), "-c", String(CLIENTS), "-j", String(THREADS), "-h", "127.0.0.1", "-p", String(endpoint.port), "-U", endpoint.user, ...args, endpoint.database],
    { env: { ...process.env, ...(endpoint.password !== undefined && { PGPASSWORD: endpoint.password }) }, maxBuffer: 16 * 1024 * 1024 },
  ).catch((error: { stderr?: string; message: string }) => {
    throw new Error(`pgbench ${args.join(" ")} on port ${endpoint.port} failed: ${error.stderr ?? error.message}`);
  });
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
  const failed = /number of failed transactions: (\d+)/.exec(stdout);
  if (tps === null) throw new Error(`pgbench printed no tps:\n${stdout}`);
  if (failed !== null && failed[1] !== "0") throw new Error(`pgbench ${args.join(" ")}: ${failed[1]} failed transactions`);
  return Number(tps[1]);
}

function report(rows: Row[]): BenchReport {
  const figures: Record<string, number> = {};
  const lines = [
    `pgbench, ${DURATION_S} s per run, -c ${CLIENTS} -j ${THREADS}, scale 10, median of ${ROUNDS} rounds (TPS)`,
    "  the Node pipe copies bytes between sockets and parses nothing: the ceiling of a proxy in Node here",
    `  ${"workload".padEnd(28)} ${"direct".padStart(8)} ${"pgbouncer".padStart(9)} ${"Node pipe".padStart(9)} ${"gateway".padStart(8)}  gw/direct  gw/pgbouncer  gw/pipe  target (gw/pgbouncer)`,
  ];
  for (const { workload, direct, pgbouncer, pipe, gateway } of rows) {
    const vsDirect = gateway / direct;
    const vsBouncer = gateway / pgbouncer;
    const vsPipe = gateway / pipe;
    const slug = workload.name.replace(/[^a-z0-9]+/gi, "_").toLowerCase().replace(/^_|_$/g, "");
    Object.assign(figures, {
      [`${slug}.direct_tps`]: direct,
      [`${slug}.pgbouncer_tps`]: pgbouncer,
      [`${slug}.node_pipe_tps`]: pipe,
      [`${slug}.gateway_tps`]: gateway,
      [`${slug}.gateway_vs_direct`]: vsDirect,
      [`${slug}.gateway_vs_pgbouncer`]: vsBouncer,
      [`${slug}.gateway_vs_node_pipe`]: vsPipe,
    });
    const met = vsBouncer >= workload.target ? "met" : "MISSED";
    lines.push(
      `  ${workload.name.padEnd(28)} ${direct.toFixed(0).padStart(8)} ${pgbouncer.toFixed(0).padStart(9)} ${pipe.toFixed(0).padStart(9)} ${gateway.toFixed(0).padStart(8)}  ${vsDirect.toFixed(2).padStart(9)}  ${vsBouncer.toFixed(2).padStart(12)}  ${vsPipe.toFixed(2).padStart(7)}  ≥ ${workload.target} ${met}`,
    );
  }
  return { name: "pgbench", lines, figures };
}

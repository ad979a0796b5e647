// The one CLI entry: dispatches to thin command modules. Exit codes: 0 ok, 1 policy errors,
// failed tests or a denied decision, 2 usage or I/O error.

import { UsageError } from "./args.js";

type Command = { run(argv: string[]): Promise<number>; summary: string };

const COMMANDS: Record<string, () => Promise<Command>> = {
  check: () => import("./commands/check.js"),
  fmt: () => import("./commands/fmt.js"),
  compile: () => import("./commands/compile.js"),
  test: () => import("./commands/test.js"),
  explain: () => import("./commands/explain.js"),
  diff: () => import("./commands/diff.js"),
  serve: () => import("./commands/serve.js"),
  demo: () => import("./commands/demo.js"),
  token: () => import("./commands/token.js"),
  provider: () => import("./commands/provider.js"),
  audit: () => import("./commands/audit.js"),
  approvals: () => import("./commands/approvals.js"),
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(await usage());
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`hoopgate: unknown command "${name}"\n\n${await usage()}`);
    return 2;
  }
  try {
    return await (await load()).run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`hoopgate ${name}: ${err.message}\n`);
      return 2;
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOENT" || e.code === "EACCES" || e.name === "SourceError" || e.name === "ConfigError") {
      process.stderr.write(`hoopgate ${name}: ${e.message}\n`);
      return 2;
    }
    throw err;
  }
}

async function usage(): Promise<string> {
  const lines = ["usage: hoopgate <command> [options]", "", "commands:"];
  for (const [name, load] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${(await load()).summary}`);
  return `${lines.join("\n")}\n`;
}

// Runs the real terraform binary for acceptance tests, with its own CLI config (the machine's
// ~/.terraformrc may point elsewhere) and no checkpoint calls; fails loudly when terraform is
// not installed.

import { execFileSync, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TerraformRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export function requireTerraform(): string {
  try {
    const env = { ...process.env, CHECKPOINT_DISABLE: "1", TF_CLI_CONFIG_FILE: "/dev/null" };
    return execFileSync("terraform", ["version"], { encoding: "utf8", env }).split("\n")[0]!;
  } catch (error) {
    throw new Error(`the Terraform acceptance suite needs the terraform binary on PATH (terraform 1.11 at /usr/local/bin/terraform): ${(error as Error).message}`);
  }
}

export class Terraform {
  private readonly env: NodeJS.ProcessEnv;

  constructor(scratch: string, extraEnv: Record<string, string>) {
    const cliConfig = join(scratch, "terraformrc");
    writeFileSync(cliConfig, "disable_checkpoint = true\n");
    this.env = { ...process.env, TF_IN_AUTOMATION: "1", TF_INPUT: "0", TF_CLI_CONFIG_FILE: cliConfig, CHECKPOINT_DISABLE: "1", ...extraEnv };
    delete this.env.TF_LOG;
  }

  run(cwd: string, args: string[]): Promise<TerraformRun> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const child = spawn("terraform", [...args], { cwd, env: this.env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Math.round(performance.now() - started) }));
    });
  }
}

/** Throws with terraform's output when the exit code is not the expected one. */
export function expectExit(run: TerraformRun, code: number, what: string): TerraformRun {
  if (run.code !== code) throw new Error(`${what}: terraform exited ${run.code}, expected ${code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
  return run;
}

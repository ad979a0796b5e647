// Installs terraform-provider-hoopgate into a filesystem mirror, the layout
// `terraform init -plugin-dir=DIR` reads offline:
// DIR/registry.terraform.io/hoopgate/hoopgate/VERSION/OS_ARCH/terraform-provider-hoopgate_vVERSION,
// a launcher that runs the built provider with this node.

import { existsSync } from "node:fs";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { hoopgatePackageRoot } from "../cdktf/package-root.js";

export const PROVIDER_SOURCE = "hoopgate/hoopgate";
export const PROVIDER_VERSION = "0.1.0";

const ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64" };

export function terraformPlatform(): string {
  const arch = ARCH[process.arch];
  if (arch === undefined || (process.platform !== "linux" && process.platform !== "darwin")) {
    throw new Error(`no terraform platform for ${process.platform}/${process.arch}`);
  }
  return `${process.platform}_${arch}`;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Writes the launcher; returns its path. Throws when the provider has not been built. */
export async function installProvider(mirrorDir: string): Promise<string> {
  const entry = join(hoopgatePackageRoot(import.meta.url), "dist", "terraform", "main.js");
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: build hoopgate first (npm run build)`);
  const dir = join(resolve(mirrorDir), "registry.terraform.io", PROVIDER_SOURCE, PROVIDER_VERSION, terraformPlatform());
  await mkdir(dir, { recursive: true });
  const launcher = join(dir, `terraform-provider-hoopgate_v${PROVIDER_VERSION}`);
  await writeFile(launcher, `#!/bin/sh\n# terraform-provider-hoopgate ${PROVIDER_VERSION}: written by \`hoopgate provider install\`\nexec ${shellQuote(process.execPath)} ${shellQuote(entry)} "$@"\n`);
  await chmod(launcher, 0o755);
  return launcher;
}

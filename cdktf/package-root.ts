// The hoopgate package's root directory, found from a module inside it, whether that module
// runs from source or from the compiled dist/ tree.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function hoopgatePackageRoot(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "hoopgate") return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`the hoopgate package root was not found above ${fileURLToPath(moduleUrl)}`);
    dir = parent;
  }
}

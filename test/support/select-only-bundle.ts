// A bundle file for tests that start the whole gateway from a config: connection `orders`,
// where identities with the claim role = bot may run SELECT.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { compileSources } from "../../compiler/index.js";
import { canonicalJson } from "../../runtime/bundle/canonical.js";

/** writes `bundle.json` into `dir` for tokens of `issuer`; returns its path */
export async function writeSelectOnlyBundle(dir: string, issuer: string): Promise<string> {
  const compiled = compileSources([{ path: "t.hoop", text: `
connection orders { kind = postgres }
group bots {
  issuer = "${issuer}"
  when   = claims.role == "bot"
}
policy read {
  subjects    = [group.bots]
  connections = [connection.orders]
  allow when sql.command == select
}` }]);
  if (compiled.bundle === undefined) throw new Error(compiled.diagnostics.map((d) => d.message).join("; "));
  const path = join(dir, "bundle.json");
  await writeFile(path, canonicalJson(compiled.bundle));
  return path;
}

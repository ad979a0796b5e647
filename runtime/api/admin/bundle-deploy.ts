// Deploying a bundle through the API: verified exactly as the file source verifies (trusted
// keys, unsigned only when the gateway allows it), written atomically over the bundle file,
// then loaded by the bundle source, so a restart keeps it and the file watcher agrees. An
// authenticated admin may deploy an older bundle on purpose: the source's rollback refusal
// (runtime/bundle/source.ts) is for what appears at its location unannounced.

import { rename, writeFile } from "node:fs/promises";
import { decodeBundle } from "../../bundle/decode.js";
import { bundleOrigin } from "../../bundle/origin.js";
import { documentDigest, type BundleSource } from "../../bundle/source.js";
import type { BundleConfig } from "../../config/types.js";
import { AdminError } from "./state.js";

export interface BundleView {
  sha256: string | null;
  loaded_at: string | null;
  origin: string | null;
  last_error: string | null;
}

export interface BundleDeployer {
  status(): BundleView;
  deploy(document: string): Promise<BundleView>;
}

export function createBundleDeployer(config: BundleConfig | undefined, source: BundleSource | undefined): BundleDeployer {
  const status = (): BundleView => {
    const s = source?.status();
    return {
      sha256: s?.sha256 ?? null,
      loaded_at: s?.loadedAt?.toISOString() ?? null,
      origin: s?.origin ?? null,
      last_error: s?.lastError ?? null,
    };
  };
  return {
    status,
    async deploy(document) {
      if (config === undefined || source === undefined) throw new AdminError(409, "the gateway has no bundle source configured (bundle.path)");
      if (config.location.kind !== "file") throw new AdminError(409, `the gateway loads its bundle from ${bundleOrigin(config.location)}: publish there instead`);
      let sha256: string;
      try {
        sha256 = (await decodeBundle(document, config)).bundle.sha256;
      } catch (error) {
        throw new AdminError(400, `bundle refused: ${(error as Error).message}`);
      }
      const path = config.location.path;
      const temp = `${path}.${process.pid}.tmp`;
      source.permit(documentDigest(document));
      await writeFile(temp, `${document.trim()}\n`, { mode: 0o644 });
      await rename(temp, path);
      await source.reload();
      const now = status();
      if (now.sha256 !== sha256) throw new Error(`bundle ${sha256} was written but the gateway runs ${now.sha256 ?? "none"}: ${now.last_error ?? "unknown error"}`);
      return now;
    },
  };
}

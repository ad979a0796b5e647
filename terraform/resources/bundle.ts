// resource "hoopgate_bundle": the policy bundle the gateway enforces. Drift: when the gateway
// runs another bundle, its sha256 differs from the one planned from `bundle`.
// Destroy only forgets the resource: the gateway keeps enforcing its last bundle, since a
// gateway without one refuses every connection.

import { isUnknown, type TfObject } from "../protocol/values.js";
import { requiredString } from "../schema/read-values.js";
import type { ResourceDefinition } from "../schema/resource.js";
import { DiagnosticError } from "../schema/types.js";
import { bundleDocumentDigest } from "./bundle-digest.js";

interface BundleStatus {
  sha256: string | null;
}

async function deploy(client: Parameters<ResourceDefinition["create"]>[0], bundle: string) {
  const status = await client.put<BundleStatus>("bundle", { bundle });
  return { id: "current", bundle, sha256: status.sha256 };
}

export const bundle: ResourceDefinition = {
  typeName: "hoopgate_bundle",
  schema: {
    description: "The policy bundle the gateway enforces (verified by the gateway against its trusted keys).",
    attributes: {
      bundle: { type: "string", required: true, description: "bundle document, e.g. data.hoopgate_policy_bundle.NAME.bundle" },
      sha256: { type: "string", computed: true, description: "digest of the bundle in force on the gateway" },
      id: { type: "string", computed: true, keepPriorOnUnknown: true, description: "always `current`" },
    },
  },
  derive(proposed): TfObject {
    const document = proposed.bundle;
    if (typeof document !== "string" || isUnknown(document)) return {};
    const sha256 = bundleDocumentDigest(document);
    if (sha256 === undefined) throw new DiagnosticError("bundle is not a hoopgate bundle", "expected the JSON or JWS output of hoopgate_policy_bundle", ["bundle"]);
    return { sha256 };
  },
  create: (client, planned) => deploy(client, requiredString(planned, "bundle")),
  update: (client, planned) => deploy(client, requiredString(planned, "bundle")),
  async read(client, state) {
    const status = await client.get<BundleStatus>("bundle");
    if (status.sha256 === null) return null;
    return { ...state, id: "current", sha256: status.sha256 };
  },
  async delete() {},
  importState: () => ({ id: "current", bundle: null, sha256: null }),
};

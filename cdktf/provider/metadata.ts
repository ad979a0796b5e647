// Shared by the hand-written cdktf bindings of terraform-provider-hoopgate (terraform/).

import type { TerraformProviderGeneratorMetadata } from "cdktf";

export const HOOPGATE_PROVIDER_SOURCE = "hoopgate/hoopgate";
export const HOOPGATE_PROVIDER_VERSION = "0.1.0";

export const generatorMetadata: TerraformProviderGeneratorMetadata = {
  providerName: "hoopgate",
  providerVersion: HOOPGATE_PROVIDER_VERSION,
  providerVersionConstraint: HOOPGATE_PROVIDER_VERSION,
};

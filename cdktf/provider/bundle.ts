// resource "hoopgate_bundle": the bundle the gateway enforces.

import { TerraformResource, type TerraformMetaArguments } from "cdktf";
import type { Construct } from "constructs";
import { generatorMetadata } from "./metadata.js";

export interface HoopgateBundleConfig extends TerraformMetaArguments {
  /** e.g. DataHoopgatePolicyBundle.bundle */
  readonly bundle: string;
}

export class HoopgateBundle extends TerraformResource {
  constructor(scope: Construct, id: string, private readonly config: HoopgateBundleConfig) {
    super(scope, id, { ...config, terraformResourceType: "hoopgate_bundle", terraformGeneratorMetadata: generatorMetadata });
  }

  get sha256(): string {
    return this.getStringAttribute("sha256");
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { bundle: this.config.bundle };
  }
}

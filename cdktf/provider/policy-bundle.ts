// data "hoopgate_policy_bundle": .hoop sources compiled (and tested, signed) at plan time.

import { TerraformDataSource, type TerraformMetaArguments } from "cdktf";
import type { Construct } from "constructs";
import { generatorMetadata } from "./metadata.js";

export interface DataHoopgatePolicyBundleConfig extends TerraformMetaArguments {
  /** directory of .hoop files, relative to terraform's working directory (or absolute) */
  readonly path: string;
  readonly runTests?: boolean;
  readonly signingKeyPem?: string;
  readonly signingKid?: string;
}

export class DataHoopgatePolicyBundle extends TerraformDataSource {
  constructor(scope: Construct, id: string, private readonly config: DataHoopgatePolicyBundleConfig) {
    super(scope, id, { ...config, terraformResourceType: "hoopgate_policy_bundle", terraformGeneratorMetadata: generatorMetadata });
  }

  get sha256(): string {
    return this.getStringAttribute("sha256");
  }

  get bundle(): string {
    return this.getStringAttribute("bundle");
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { path: this.config.path, run_tests: this.config.runTests, signing_key_pem: this.config.signingKeyPem, signing_kid: this.config.signingKid };
  }
}

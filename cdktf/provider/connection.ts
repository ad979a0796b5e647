// resource "hoopgate_connection": a connection target and its (sensitive) credentials.

import { TerraformResource, type TerraformMetaArguments } from "cdktf";
import type { Construct } from "constructs";
import { generatorMetadata } from "./metadata.js";

export interface HoopgateConnectionConfig extends TerraformMetaArguments {
  readonly name: string;
  /** postgres://user@host:port/db or ssh://user@host:port */
  readonly target: string;
  readonly password?: string;
}

export class HoopgateConnection extends TerraformResource {
  constructor(scope: Construct, id: string, private readonly config: HoopgateConnectionConfig) {
    super(scope, id, { ...config, terraformResourceType: "hoopgate_connection", terraformGeneratorMetadata: generatorMetadata });
  }

  get id(): string {
    return this.getStringAttribute("id");
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { name: this.config.name, target: this.config.target, password: this.config.password };
  }
}

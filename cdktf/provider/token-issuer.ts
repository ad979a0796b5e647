// resource "hoopgate_token_issuer": a trusted OIDC issuer.

import { TerraformResource, type TerraformMetaArguments } from "cdktf";
import type { Construct } from "constructs";
import { generatorMetadata } from "./metadata.js";

export interface HoopgateTokenIssuerConfig extends TerraformMetaArguments {
  readonly issuer: string;
  readonly audience: string[];
  readonly jwksUrl: string;
}

export class HoopgateTokenIssuer extends TerraformResource {
  constructor(scope: Construct, id: string, private readonly config: HoopgateTokenIssuerConfig) {
    super(scope, id, { ...config, terraformResourceType: "hoopgate_token_issuer", terraformGeneratorMetadata: generatorMetadata });
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { issuer: this.config.issuer, audience: this.config.audience, jwks_url: this.config.jwksUrl };
  }
}

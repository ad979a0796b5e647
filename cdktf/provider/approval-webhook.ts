// resource "hoopgate_approval_webhook": where new approval requests are posted.

import { TerraformResource, type TerraformMetaArguments } from "cdktf";
import type { Construct } from "constructs";
import { generatorMetadata } from "./metadata.js";

export interface HoopgateApprovalWebhookConfig extends TerraformMetaArguments {
  readonly url: string;
}

export class HoopgateApprovalWebhook extends TerraformResource {
  constructor(scope: Construct, id: string, private readonly config: HoopgateApprovalWebhookConfig) {
    super(scope, id, { ...config, terraformResourceType: "hoopgate_approval_webhook", terraformGeneratorMetadata: generatorMetadata });
  }

  get id(): string {
    return this.getStringAttribute("id");
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { url: this.config.url };
  }
}

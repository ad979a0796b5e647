// provider "hoopgate": the gateway's admin API endpoint and token.

import { TerraformProvider } from "cdktf";
import type { Construct } from "constructs";
import { generatorMetadata, HOOPGATE_PROVIDER_SOURCE } from "./metadata.js";

export interface HoopgateProviderConfig {
  /** the gateway's API URL (default: HOOPGATE_ENDPOINT) */
  readonly endpoint?: string;
  /** admin bearer token (default: HOOPGATE_TOKEN) */
  readonly token?: string;
  /** PEM CA certificate(s) the API's certificate chains to, e.g. `Fn.file("gateway-ca.pem")` (default: the file HOOPGATE_CA_FILE names; else the public roots) */
  readonly caCertificate?: string;
}

export class HoopgateProvider extends TerraformProvider {
  constructor(scope: Construct, id: string, private readonly config: HoopgateProviderConfig = {}) {
    super(scope, id, { terraformResourceType: "hoopgate", terraformGeneratorMetadata: generatorMetadata, terraformProviderSource: HOOPGATE_PROVIDER_SOURCE });
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { endpoint: this.config.endpoint, token: this.config.token, ca_certificate: this.config.caCertificate };
  }
}

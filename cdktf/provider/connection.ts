// resource "hoopgate_connection": a connection target, its (sensitive) credentials and the TLS
// the gateway reaches it with.

import { TerraformResource, type TerraformMetaArguments } from "cdktf";
import type { Construct } from "constructs";
import { generatorMetadata } from "./metadata.js";

export interface HoopgateConnectionConfig extends TerraformMetaArguments {
  readonly name: string;
  /** postgres://user@host:port/db or ssh://user@host:port */
  readonly target: string;
  readonly password?: string;
  /** postgres only: disable | require | verify-ca | verify-full; default the gateway's (verify-full, or disable for a loopback target without password) */
  readonly tlsMode?: string;
  /** postgres only: PEM CA certificate(s), e.g. Fn.file("eu-west-1-bundle.pem") for RDS */
  readonly tlsCa?: string;
  /** postgres only: PEM client certificate, with tlsKey */
  readonly tlsCert?: string;
  /** postgres only: the client certificate's unencrypted PEM key; pass a sensitive variable or Fn.file, never a literal */
  readonly tlsKey?: string;
  /** postgres only: the upstream login methods allowed (scram-sha-256, md5, password, none); default the gateway's */
  readonly requireAuth?: string[];
}

export class HoopgateConnection extends TerraformResource {
  constructor(scope: Construct, id: string, private readonly config: HoopgateConnectionConfig) {
    super(scope, id, { ...config, terraformResourceType: "hoopgate_connection", terraformGeneratorMetadata: generatorMetadata });
  }

  get id(): string {
    return this.getStringAttribute("id");
  }

  /** the TLS mode in force on the gateway */
  get tlsMode(): string {
    return this.getStringAttribute("tls_mode");
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return {
      name: this.config.name,
      target: this.config.target,
      password: this.config.password,
      tls_mode: this.config.tlsMode,
      tls_ca: this.config.tlsCa,
      tls_cert: this.config.tlsCert,
      tls_key: this.config.tlsKey,
      require_auth: this.config.requireAuth,
    };
  }
}

// A cdktf stack that configures a running gateway through terraform-provider-hoopgate: the
// signed policy bundle, a trusted issuer, a PostgreSQL connection and an approval webhook.

import { Fn, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import {
  DataHoopgatePolicyBundle,
  HoopgateApprovalWebhook,
  HoopgateBundle,
  HoopgateConnection,
  HoopgateProvider,
  HoopgateTokenIssuer,
} from "../../cdktf/provider/index.js";

export interface LiveGatewayStackProps {
  /** the gateway's API URL; the admin token comes from HOOPGATE_TOKEN at plan/apply time */
  endpoint: string;
  /** absolute path of the PEM CA the API's certificate chains to, read by terraform; absent: the public roots */
  apiCaFile?: string;
  /** absolute directory of the .hoop sources */
  policies: string;
  /** absolute path of the Ed25519 PEM signing key, read by terraform (never synthesized) */
  signingKeyFile: string;
  signingKid: string;
  issuer: { url: string; audience: string[]; jwksUrl: string };
  /** `tlsCaFile`: absolute path of the PEM CA bundle, read by terraform */
  connection: { name: string; target: string; tlsMode?: string; tlsCaFile?: string };
  webhookUrl: string;
}

export class LiveGatewayStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: LiveGatewayStackProps) {
    super(scope, id);
    new HoopgateProvider(this, "hoopgate", { endpoint: props.endpoint, ...(props.apiCaFile !== undefined && { caCertificate: Fn.file(props.apiCaFile) }) });
    const policies = new DataHoopgatePolicyBundle(this, "policies", {
      path: props.policies,
      runTests: true,
      signingKeyPem: Fn.file(props.signingKeyFile),
      signingKid: props.signingKid,
    });
    const bundle = new HoopgateBundle(this, "bundle", { bundle: policies.bundle });
    new HoopgateTokenIssuer(this, "ci-issuer", { issuer: props.issuer.url, audience: props.issuer.audience, jwksUrl: props.issuer.jwksUrl });
    const { name, target, tlsMode, tlsCaFile } = props.connection;
    new HoopgateConnection(this, "connection", { name, target, tlsMode, tlsCa: tlsCaFile === undefined ? undefined : Fn.file(tlsCaFile) });
    new HoopgateApprovalWebhook(this, "approvals", { url: props.webhookUrl });
    new TerraformOutput(this, "bundle_sha256", { value: bundle.sha256 });
  }
}

// The example deployment: the policies in ./policies, trusted for GitHub Actions OIDC tokens,
// one PostgreSQL and one SSH target, and the gateway in the account's default VPC.

import { TerraformOutput, TerraformStack, TerraformVariable } from "cdktf";
import type { Construct } from "constructs";
import { DataAwsSubnets } from "@cdktf/provider-aws/lib/data-aws-subnets/index.js";
import { DataAwsVpc } from "@cdktf/provider-aws/lib/data-aws-vpc/index.js";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider/index.js";
import { HoopConnection, HoopGateway, HoopIdentityProvider, HoopPolicyBundle } from "../../cdktf/index.js";

export interface ExampleStackProps {
  /** directory diagnostics and bundle sources are relative to (the repository root) */
  readonly root: string;
  /** PEM of the Ed25519 bundle signing key */
  readonly signingKeyPem: string;
  readonly region: string;
  readonly image: string;
  /** run the policies' tests at synth (needs `npm run build`: they run through the CLI) */
  readonly runTests: boolean;
}

export class HoopgateExampleStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: ExampleStackProps) {
    super(scope, id);
    new AwsProvider(this, "aws", { region: props.region });

    const bundle = new HoopPolicyBundle(this, "policies", {
      path: "examples/cdktf/policies",
      cwd: props.root,
      runTests: props.runTests,
      signingKey: { privateKeyPem: props.signingKeyPem, kid: "example-1" },
    });
    const github = HoopIdentityProvider.githubActions(this, "github-actions", { audience: "hoopgate" });

    const bastionKey = new TerraformVariable(this, "bastion_private_key", {
      type: "string",
      sensitive: true,
      description: "PEM private key the gateway uses to log in to the bastion as deploy",
    });
    const ordersDbCa = new TerraformVariable(this, "orders_db_ca_secret_arn", {
      type: "string",
      description: "Secrets Manager ARN of the PEM CA bundle orders-db's certificate chains to (RDS: the region's bundle)",
    });
    const ordersDb = new HoopConnection(this, "orders-db", {
      bundle,
      name: "orders-db",
      kind: "postgres",
      host: "orders.db.internal.acme.dev",
      database: "orders",
      user: "hoopgate",
      // verify-full (the default mode): the certificate chains to this CA and names the host
      tls: { ca: { source: "existing", secretArn: ordersDbCa.stringValue } },
    });
    const bastion = new HoopConnection(this, "bastion", {
      bundle,
      name: "bastion",
      kind: "ssh",
      host: "10.0.1.10",
      user: "deploy",
      credentials: { source: "value", value: bastionKey.stringValue },
    });

    const tlsCert = new TerraformVariable(this, "tls_certificate_secret_arn", {
      type: "string",
      description: "Secrets Manager ARN of the gateway's PEM certificate chain",
    });
    const tlsKey = new TerraformVariable(this, "tls_private_key_secret_arn", {
      type: "string",
      description: "Secrets Manager ARN of the gateway's PEM private key",
    });
    const vpc = new DataAwsVpc(this, "vpc", { default: true });
    const subnets = new DataAwsSubnets(this, "subnets", { filter: [{ name: "vpc-id", values: [vpc.id] }] });
    const gateway = new HoopGateway(this, "gateway", {
      image: props.image,
      bundle,
      identityProviders: [github],
      connections: [ordersDb, bastion],
      vpcId: vpc.id,
      subnetIds: subnets.ids,
      allowedCidrs: [vpc.cidrBlock],
      // the default VPC has public subnets and no NAT: tasks need a public IP to pull the image
      assignPublicIp: true,
      tls: { certificateSecretArn: tlsCert.stringValue, privateKeySecretArn: tlsKey.stringValue },
    });

    new TerraformOutput(this, "endpoint", { value: gateway.endpoint });
    new TerraformOutput(this, "bundle_object", { value: bundle.s3Url });
    new TerraformOutput(this, "audit_bucket", { value: gateway.auditBucket.bucket });
  }
}

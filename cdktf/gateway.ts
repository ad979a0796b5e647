// HoopGateway: the gateway on ECS Fargate behind a Network Load Balancer. The task role can
// read exactly its bundle object and its connections' secrets; the config is generated from
// the other constructs and handed to the container in an environment variable (it holds no
// secret: credentials are Secrets Manager ARNs the gateway resolves with its task role).

import { Annotations } from "cdktf";
import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group/index.js";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition/index.js";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region/index.js";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster/index.js";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service/index.js";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition/index.js";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role/index.js";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy/index.js";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment/index.js";
import { Lb } from "@cdktf/provider-aws/lib/lb/index.js";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener/index.js";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group/index.js";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket/index.js";
import { S3BucketObjectLockConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-object-lock-configuration/index.js";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning/index.js";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group/index.js";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule/index.js";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule/index.js";
import type { HoopConnection } from "./connection.js";
import { escapeLiterals, terraformJson } from "./escape.js";
import { gatewayConfig, type GatewayConfigDocument, type GatewayPorts, type GatewayTlsFiles } from "./gateway-config.js";
import { assumeRolePolicy, policyDocument, type PolicyStatement } from "./iam.js";
import type { HoopIdentityProvider } from "./identity-provider.js";
import type { HoopPolicyBundle } from "./policy-bundle.js";

export interface HoopGatewayTls {
  /** secret holding the PEM certificate chain the gateway presents */
  readonly certificateSecretArn: string;
  /** secret holding the PEM private key */
  readonly privateKeySecretArn: string;
}

export interface HoopGatewayProps {
  /** the gateway container image; it must have `/bin/sh` and `hoopgate` on its PATH */
  readonly image: string;
  /** a signed bundle: the gateway loads nothing else */
  readonly bundle: HoopPolicyBundle;
  readonly identityProviders: readonly HoopIdentityProvider[];
  readonly connections: readonly HoopConnection[];
  readonly vpcId: string;
  /** subnets of the tasks */
  readonly subnetIds: string[];
  /** subnets of the load balancer; default `subnetIds` */
  readonly loadBalancerSubnetIds?: string[];
  /** IPv4 CIDRs allowed to reach the listeners */
  readonly allowedCidrs: string[];
  /** default false: an internal load balancer */
  readonly internetFacing?: boolean;
  /** default false; true when the subnets reach the internet without NAT (ECR, S3, JWKS) */
  readonly assignPublicIp?: boolean;
  /** listener and container ports; default postgres 5432, ssh 2222, api 8080 */
  readonly ports?: Partial<GatewayPorts>;
  /** names the cluster, service, task family and log group; default `hoopgate` */
  readonly name?: string;
  /** default 1; more replicas need `storeUrl` (they share approvals and audit) */
  readonly desiredCount?: number;
  /** shared PostgreSQL store (no password in the URL); default: the embedded store */
  readonly storeUrl?: string;
  /**
   * TLS for the PostgreSQL and API listeners (required): the NLB passes TCP through, so the
   * gateway itself must terminate TLS, or clients' and approvers' tokens would cross the network
   * in clear. The API is served over HTTPS with it; its health check is HTTPS `/healthz`.
   */
  readonly tls: HoopGatewayTls;
  /** Fargate CPU units, default 512 */
  readonly cpu?: number;
  /** Fargate memory (MiB), default 1024 */
  readonly memoryMiB?: number;
  /** default 30 */
  readonly logRetentionDays?: number;
  /** default-retention mode of the audit bucket's object lock; default GOVERNANCE */
  readonly auditLockMode?: "GOVERNANCE" | "COMPLIANCE";
  /** default-retention days of the audit bucket's object lock; default 365 */
  readonly auditRetentionDays?: number;
}

const DEFAULT_PORTS: GatewayPorts = { postgres: 5432, ssh: 2222, api: 8080 };
const CONTAINER = "gateway";
const RUN_DIR = "/tmp/hoopgate";
const EXECUTION_POLICY = "policy/service-role/AmazonECSTaskExecutionRolePolicy";

export class HoopGateway extends Construct {
  public readonly config: GatewayConfigDocument;
  public readonly ports: GatewayPorts;
  public readonly cluster: EcsCluster;
  public readonly service: EcsService;
  public readonly taskDefinition: EcsTaskDefinition;
  public readonly taskRole: IamRole;
  public readonly executionRole: IamRole;
  public readonly loadBalancer: Lb;
  public readonly listeners: Record<keyof GatewayPorts, LbListener>;
  public readonly logGroup: CloudwatchLogGroup;
  /** audit archive: versioned, object lock on */
  public readonly auditBucket: S3Bucket;

  constructor(scope: Construct, id: string, props: HoopGatewayProps) {
    super(scope, id);
    const where = `HoopGateway ${this.node.path}`;
    validate(where, props);
    this.checkCoverage(props);
    const name = props.name ?? "hoopgate";
    this.ports = { ...DEFAULT_PORTS, ...props.ports };
    const tlsFiles: GatewayTlsFiles = { cert_file: `${RUN_DIR}/tls.crt`, key_file: `${RUN_DIR}/tls.key` };
    this.config = gatewayConfig({
      ports: this.ports,
      bundle: props.bundle,
      identityProviders: props.identityProviders,
      connections: props.connections,
      storeUrl: props.storeUrl,
      tls: tlsFiles,
    });

    this.logGroup = new CloudwatchLogGroup(this, "logs", {
      name: `/hoopgate/${name}`,
      retentionInDays: props.logRetentionDays ?? 30,
    });
    this.auditBucket = this.newAuditBucket(props);
    this.taskRole = this.newTaskRole(props);
    this.executionRole = this.newExecutionRole(props.tls);

    const lbSg = new SecurityGroup(this, "lb-sg", { vpcId: props.vpcId, description: "hoopgate load balancer" });
    const taskSg = new SecurityGroup(this, "task-sg", { vpcId: props.vpcId, description: "hoopgate tasks" });
    this.loadBalancer = new Lb(this, "nlb", {
      loadBalancerType: "network",
      internal: !(props.internetFacing ?? false),
      subnets: props.loadBalancerSubnetIds ?? props.subnetIds,
      securityGroups: [lbSg.id],
    });
    const listeners: Partial<Record<keyof GatewayPorts, LbListener>> = {};
    const targets: { targetGroupArn: string; containerName: string; containerPort: number }[] = [];
    for (const proto of ["postgres", "ssh", "api"] as const) {
      const port = this.ports[proto];
      for (const [i, cidr] of props.allowedCidrs.entries()) {
        new VpcSecurityGroupIngressRule(this, `lb-in-${proto}-${i}`, {
          securityGroupId: lbSg.id, ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv4: cidr,
        });
      }
      new VpcSecurityGroupEgressRule(this, `lb-out-${proto}`, {
        securityGroupId: lbSg.id, ipProtocol: "tcp", fromPort: port, toPort: port, referencedSecurityGroupId: taskSg.id,
      });
      new VpcSecurityGroupIngressRule(this, `task-in-${proto}`, {
        securityGroupId: taskSg.id, ipProtocol: "tcp", fromPort: port, toPort: port, referencedSecurityGroupId: lbSg.id,
      });
      const group = new LbTargetGroup(this, `tg-${proto}`, {
        port, protocol: "TCP", targetType: "ip", vpcId: props.vpcId,
        // the API answers /healthz over HTTPS (the NLB does not verify the certificate); the others are checked by TCP connect
        healthCheck: proto === "api" ? { protocol: "HTTPS", path: "/healthz", matcher: "200" } : { protocol: "TCP" },
      });
      listeners[proto] = new LbListener(this, `listener-${proto}`, {
        loadBalancerArn: this.loadBalancer.arn, port, protocol: "TCP",
        defaultAction: [{ type: "forward", targetGroupArn: group.arn }],
      });
      targets.push({ targetGroupArn: group.arn, containerName: CONTAINER, containerPort: port });
    }
    this.listeners = listeners as Record<keyof GatewayPorts, LbListener>;
    // the gateway reaches its targets, Secrets Manager, S3 and the issuers' JWKS
    new VpcSecurityGroupEgressRule(this, "task-out", { securityGroupId: taskSg.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" });

    this.cluster = new EcsCluster(this, "cluster", { name });
    this.taskDefinition = new EcsTaskDefinition(this, "task", {
      family: name,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(props.cpu ?? 512),
      memory: String(props.memoryMiB ?? 1024),
      taskRoleArn: this.taskRole.arn,
      executionRoleArn: this.executionRole.arn,
      containerDefinitions: this.containerDefinitions(props),
    });
    this.service = new EcsService(this, "service", {
      name,
      cluster: this.cluster.id,
      taskDefinition: this.taskDefinition.arn,
      desiredCount: props.desiredCount ?? 1,
      launchType: "FARGATE",
      networkConfiguration: {
        subnets: props.subnetIds,
        securityGroups: [taskSg.id],
        assignPublicIp: props.assignPublicIp ?? false,
      },
      loadBalancer: targets,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      dependsOn: Object.values(this.listeners),
    });
  }

  /** the load balancer's DNS name clients connect to */
  public get endpoint(): string {
    return this.loadBalancer.dnsName;
  }

  /** the API's URL through the load balancer (HTTPS): the Terraform provider's `endpoint`, the approvals CLI's `--api` */
  public get apiUrl(): string {
    return `https://${this.loadBalancer.dnsName}:${this.ports.api}`;
  }

  /** Exactly: read the bundle object, read each connection's secret. */
  private newTaskRole(props: HoopGatewayProps): IamRole {
    const role = new IamRole(this, "task-role", { assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com") });
    const statements: PolicyStatement[] = [props.bundle.readStatement(), ...props.connections.map((c) => c.readStatement())];
    new IamRolePolicy(this, "task-access", { role: role.name, name: "hoopgate-task-access", policy: policyDocument(statements) });
    return role;
  }

  /** ECS's own role: pull the image, write logs, and inject the TLS secrets when given. */
  private newExecutionRole(tls: HoopGatewayTls): IamRole {
    const role = new IamRole(this, "execution-role", { assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com") });
    const partition = new DataAwsPartition(this, "partition");
    new IamRolePolicyAttachment(this, "execution-policy", {
      role: role.name,
      policyArn: `arn:${partition.partition}:iam::aws:${EXECUTION_POLICY}`,
    });
    new IamRolePolicy(this, "execution-tls", {
      role: role.name,
      name: "hoopgate-tls-secrets",
      policy: policyDocument([
        { actions: ["secretsmanager:GetSecretValue"], resources: [tls.certificateSecretArn, tls.privateKeySecretArn] },
      ]),
    });
    return role;
  }

  private newAuditBucket(props: HoopGatewayProps): S3Bucket {
    const bucket = new S3Bucket(this, "audit", { bucketPrefix: "hoopgate-audit-", objectLockEnabled: true });
    new S3BucketPublicAccessBlock(this, "audit-public-access-block", {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const versioning = new S3BucketVersioningA(this, "audit-versioning", {
      bucket: bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketObjectLockConfigurationA(this, "audit-object-lock", {
      bucket: bucket.id,
      rule: { defaultRetention: { mode: props.auditLockMode ?? "GOVERNANCE", days: props.auditRetentionDays ?? 365 } },
      dependsOn: [versioning],
    });
    return bucket;
  }

  /**
   * The container writes its config (and TLS files) from the environment to a private
   * directory and starts `hoopgate serve` on it.
   */
  private containerDefinitions(props: HoopGatewayProps): string {
    const region = new DataAwsRegion(this, "region");
    const script = [
      "set -eu",
      "umask 077",
      `mkdir -p ${RUN_DIR}`,
      `printf '%s' "$HOOPGATE_CONFIG" > ${RUN_DIR}/gateway.json`,
      `printf '%s\\n' "$HOOPGATE_TLS_CERT" > ${RUN_DIR}/tls.crt`,
      `printf '%s\\n' "$HOOPGATE_TLS_KEY" > ${RUN_DIR}/tls.key`,
      `exec hoopgate serve --config ${RUN_DIR}/gateway.json`,
    ].join("\n");
    const container = escapeLiterals({
      name: CONTAINER,
      image: props.image,
      essential: true,
      entryPoint: ["/bin/sh", "-c"],
      command: [script],
      portMappings: (["postgres", "ssh", "api"] as const).map((p) => ({
        containerPort: this.ports[p], hostPort: this.ports[p], protocol: "tcp",
      })),
      secrets: [
        { name: "HOOPGATE_TLS_CERT", valueFrom: props.tls.certificateSecretArn },
        { name: "HOOPGATE_TLS_KEY", valueFrom: props.tls.privateKeySecretArn },
      ],
      logConfiguration: {
        logDriver: "awslogs",
        options: { "awslogs-group": this.logGroup.name, "awslogs-region": region.region, "awslogs-stream-prefix": "gateway" },
      },
    }) as Record<string, unknown>;
    // the config is escaped once, on its own; it must not pass through escapeLiterals again.
    // AWS_REGION: the region the gateway reads its s3:// bundle in (its secrets carry theirs in the ARN)
    // the connections' CAs given as text, which the config names as `env:` references
    container.environment = [
      { name: "HOOPGATE_CONFIG", value: terraformJson(this.config) },
      { name: "AWS_REGION", value: region.region },
      ...props.connections.flatMap((c) => c.environment),
    ];
    return JSON.stringify([container]);
  }

  /** Warnings for what deploys fine but cannot work: unreachable groups and connections. */
  private checkCoverage(props: HoopGatewayProps): void {
    const issuers = new Set(props.identityProviders.map((p) => p.issuer));
    for (const [group, def] of Object.entries(props.bundle.document.groups).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!issuers.has(def.issuer)) {
        Annotations.of(this).addWarning(`group ${group} trusts issuer ${def.issuer}, which no identity provider of this gateway configures`);
      }
    }
    const targets = new Set(props.connections.map((c) => c.name));
    for (const name of props.bundle.connectionNames) {
      if (!targets.has(name)) {
        Annotations.of(this).addWarning(`connection ${name} is declared in the policies but has no HoopConnection: sessions to it will be refused`);
      }
    }
  }
}

function validate(where: string, props: HoopGatewayProps): void {
  if (!props.bundle.signed) {
    throw new Error(`${where}: the bundle ${props.bundle.node.path} is not signed; give HoopPolicyBundle a signingKey (the gateway loads only signed bundles)`);
  }
  if (props.identityProviders.length === 0) throw new Error(`${where}: at least one identity provider is needed`);
  if (props.allowedCidrs.length === 0) throw new Error(`${where}: allowedCidrs is empty; no client could connect`);
  const seen = new Set<string>();
  const variables = new Map<string, string>();
  for (const c of props.connections) {
    if (seen.has(c.name)) throw new Error(`${where}: connection ${c.name} is given twice`);
    seen.add(c.name);
    for (const { name } of c.environment) {
      const other = variables.get(name);
      if (other !== undefined) throw new Error(`${where}: connections ${other} and ${c.name} both need the environment variable ${name}; rename one`);
      variables.set(name, c.name);
    }
  }
  const replicas = props.desiredCount ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`${where}: desiredCount must be a positive integer`);
  if (replicas > 1 && props.storeUrl === undefined) {
    throw new Error(`${where}: ${replicas} replicas need a shared store (storeUrl); the embedded store is per task`);
  }
  const ports = { ...DEFAULT_PORTS, ...props.ports };
  const values = Object.values(ports);
  if (values.some((p) => !Number.isInteger(p) || p < 1 || p > 65535) || new Set(values).size !== values.length) {
    throw new Error(`${where}: ports must be three distinct TCP ports, got ${JSON.stringify(ports)}`);
  }
  // a plain-JS caller can leave it out; the gateway would then refuse its own config (listen.api on 0.0.0.0 without tls)
  if ((props.tls as HoopGatewayTls | undefined) === undefined) {
    throw new Error(`${where}: tls is required: the load balancer passes TCP through, so without the gateway's own certificate PostgreSQL clients could not send their tokens and the API (approvers' and admins' tokens, the Terraform provider) would be plain HTTP on the network`);
  }
}

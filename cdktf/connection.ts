// HoopConnection: a target the gateway proxies to (DESIGN.md §5 `connections`), with its
// credential in AWS Secrets Manager. The name must be a `connection` the policy bundle
// declares, with the same kind: a gateway entry no policy can reach is a deployment mistake.

import { Token } from "cdktf";
import { Construct } from "constructs";
import { closest, distance } from "fastest-levenshtein";
import { DataAwsSecretsmanagerRandomPassword } from "@cdktf/provider-aws/lib/data-aws-secretsmanager-random-password/index.js";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role/index.js";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy/index.js";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret/index.js";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version/index.js";
import { escapeTerraformTemplate } from "./escape.js";
import { policyDocument, type PolicyStatement } from "./iam.js";
import type { HoopPolicyBundle } from "./policy-bundle.js";

export type HoopConnectionKind = "postgres" | "ssh";

/**
 * Where the gateway's credential for the target comes from: the database password for
 * postgres, the private key (PEM) for ssh.
 * - `generated`: a new secret holding a random 32-character password (postgres only); set the
 *   same password on the database (e.g. read the secret where the database is defined).
 * - `value`: a new secret holding this value; pass a sensitive `TerraformVariable`, never a
 *   literal, or the credential lands in your source.
 * - `existing`: a secret you manage; the full ARN.
 */
export type HoopConnectionCredentials =
  | { readonly source: "generated" }
  | { readonly source: "value"; readonly value: string }
  | { readonly source: "existing"; readonly secretArn: string };

export interface HoopConnectionProps {
  readonly bundle: HoopPolicyBundle;
  /** a `connection` declared in the bundle's policies */
  readonly name: string;
  readonly kind: HoopConnectionKind;
  readonly host: string;
  /** default 5432 (postgres) or 22 (ssh) */
  readonly port?: number;
  /** postgres only, required there */
  readonly database?: string;
  /** the account the gateway logs in as */
  readonly user: string;
  /** default `generated` for postgres; required for ssh */
  readonly credentials?: HoopConnectionCredentials;
}

/** One `connections` entry of the gateway config. */
export type ConnectionConfigEntry = { target: string; password: string } | { target: string; private_key: string };

const DEFAULT_PORT: Record<HoopConnectionKind, number> = { postgres: 5432, ssh: 22 };
const HOSTNAME = /^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/;

export class HoopConnection extends Construct {
  public readonly name: string;
  public readonly kind: HoopConnectionKind;
  /** the credential's secret: what the gateway must be allowed to `GetSecretValue` */
  public readonly secretArn: string;
  /** the secret, when this construct created it */
  public readonly secret?: SecretsmanagerSecret;
  private readonly target: string;

  constructor(scope: Construct, id: string, props: HoopConnectionProps) {
    super(scope, id);
    const where = `HoopConnection ${this.node.path}`;
    checkDeclared(where, props);
    this.name = props.name;
    this.kind = props.kind;
    this.target = targetUrl(where, props);

    const credentials = props.credentials ?? (props.kind === "postgres" ? { source: "generated" } : undefined);
    if (credentials === undefined) {
      throw new Error(`${where}: an ssh connection needs credentials (a private key as { source: "value" } or an existing secret)`);
    }
    if (credentials.source === "existing") {
      this.secretArn = credentials.secretArn;
      return;
    }
    if (credentials.source === "generated" && props.kind !== "postgres") {
      throw new Error(`${where}: generated credentials are passwords; an ssh connection needs a private key`);
    }
    this.secret = new SecretsmanagerSecret(this, "secret", {
      namePrefix: `hoopgate-${props.name}-`,
      description: `hoopgate ${props.kind} credential for connection ${props.name}`,
    });
    this.secretArn = this.secret.arn;
    if (credentials.source === "generated") {
      const random = new DataAwsSecretsmanagerRandomPassword(this, "random", {
        passwordLength: 32,
        excludePunctuation: true,
      });
      new SecretsmanagerSecretVersion(this, "value", {
        secretId: this.secret.id,
        secretString: random.randomPassword,
        // the data source draws a new password on every plan; keep the first one
        lifecycle: { ignoreChanges: ["secret_string"] },
      });
    } else {
      const value = credentials.value;
      new SecretsmanagerSecretVersion(this, "value", {
        secretId: this.secret.id,
        secretString: Token.isUnresolved(value) ? value : escapeTerraformTemplate(value),
      });
    }
  }

  public configEntry(): ConnectionConfigEntry {
    return this.kind === "postgres"
      ? { target: this.target, password: this.secretArn }
      : { target: this.target, private_key: this.secretArn };
  }

  public readStatement(): PolicyStatement {
    return { actions: ["secretsmanager:GetSecretValue"], resources: [this.secretArn] };
  }

  /** Let `role` read this connection's credential (and no other secret). */
  public grantRead(role: IamRole): IamRolePolicy {
    return new IamRolePolicy(this, `read-${role.node.addr}`, {
      role: role.name,
      name: `hoopgate-connection-read-${this.node.addr.slice(0, 12)}`,
      policy: policyDocument([this.readStatement()]),
    });
  }
}

function checkDeclared(where: string, props: HoopConnectionProps): void {
  const declared = props.bundle.connectionNames;
  const found = props.bundle.document.connections[props.name];
  if (found === undefined) {
    const list = declared.length > 0 ? declared.join(", ") : "none";
    const near = declared.length > 0 ? closest(props.name, declared) : undefined;
    const hint = near !== undefined && distance(props.name, near) <= Math.max(2, near.length / 3) ? `; did you mean "${near}"?` : "";
    throw new Error(
      `${where}: "${props.name}" is not a connection declared in the policies of ${props.bundle.node.path} (declared: ${list})${hint}`,
    );
  }
  if (found.kind !== props.kind) {
    throw new Error(`${where}: connection "${props.name}" is declared as kind ${found.kind} in the policies, not ${props.kind}`);
  }
}

/** `postgres://user@host:port/database` or `ssh://user@host:port`; user and database percent-encoded. */
function targetUrl(where: string, props: HoopConnectionProps): string {
  const port = props.port ?? DEFAULT_PORT[props.kind];
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${where}: port ${port} is not a TCP port`);
  if (!Token.isUnresolved(props.host) && !HOSTNAME.test(props.host)) {
    throw new Error(`${where}: host ${JSON.stringify(props.host)} is not a hostname or IP address`);
  }
  if (props.user === "") throw new Error(`${where}: user is empty`);
  const base = `${props.kind}://${urlPart(props.user)}@${props.host}:${port}`;
  if (props.kind === "ssh") {
    if (props.database !== undefined) throw new Error(`${where}: database applies to postgres connections only`);
    return base;
  }
  if (props.database === undefined || props.database === "") throw new Error(`${where}: a postgres connection needs a database`);
  return `${base}/${urlPart(props.database)}`;
}

/** Percent-encoded, which also leaves no `${`/`%{` for Terraform; tokens resolve at apply time. */
function urlPart(text: string): string {
  return Token.isUnresolved(text) ? text : encodeURIComponent(text);
}

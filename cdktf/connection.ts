// HoopConnection: a target the gateway proxies to (DESIGN.md §5 `connections`), with its
// credential in AWS Secrets Manager and, for postgres, the TLS the gateway reaches it with. The
// name must be a `connection` the policy bundle declares, with the same kind: a gateway entry
// no policy can reach is a deployment mistake.

import { Annotations, Token } from "cdktf";
import { Construct } from "constructs";
import { closest, distance } from "fastest-levenshtein";
import { DataAwsSecretsmanagerRandomPassword } from "@cdktf/provider-aws/lib/data-aws-secretsmanager-random-password/index.js";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role/index.js";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy/index.js";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret/index.js";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version/index.js";
import { TLS_MODES, tlsProblems } from "../runtime/config/upstream-tls.js";
import type { UpstreamTlsMode } from "../runtime/postgres/context.js";
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

/**
 * The CA certificate(s) the target's server certificate must chain to (RDS and Aurora: the
 * region's bundle, https://truststore.pki.rds.amazonaws.com/REGION/REGION-bundle.pem).
 * - `value`: the PEM text, known at synth (e.g. `readFileSync` of the bundle). A CA is public:
 *   it travels in the task definition's environment, not in a secret.
 * - `existing`: a Secrets Manager secret holding the PEM; the full ARN. The gateway's task role
 *   is allowed to read it.
 */
export type HoopConnectionCa =
  | { readonly source: "value"; readonly pem: string }
  | { readonly source: "existing"; readonly secretArn: string };

/** How the gateway protects its connection to a postgres target (libpq's sslmode). */
export interface HoopConnectionTls {
  /** default `verify-full`: the chain ends in `ca` (the public roots without one) and names the host */
  readonly mode?: UpstreamTlsMode;
  readonly ca?: HoopConnectionCa;
}

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
  /**
   * postgres only, and required there: a CA or an explicit mode. The gateway's default,
   * verify-full against the public roots, would refuse RDS and most private databases at
   * runtime; synth fails instead (README.md in this folder).
   */
  readonly tls?: HoopConnectionTls;
}

/** One `connections` entry of the gateway config. */
export type ConnectionConfigEntry = { target: string; password: string; tls: TlsConfigEntry } | { target: string; private_key: string };

/** `connections.NAME.tls`: `ca_file` is `env:NAME` (a CA given as text) or a secret's ARN */
export interface TlsConfigEntry {
  mode: UpstreamTlsMode;
  ca_file?: string;
}

/** A variable the gateway's container needs in its environment. */
export interface ContainerEnvironmentEntry {
  name: string;
  value: string;
}

const DEFAULT_PORT: Record<HoopConnectionKind, number> = { postgres: 5432, ssh: 22 };
const HOSTNAME = /^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/;

export class HoopConnection extends Construct {
  public readonly name: string;
  public readonly kind: HoopConnectionKind;
  /** the credential's secret: what the gateway must be allowed to `GetSecretValue` */
  public readonly secretArn: string;
  /** the secret, when this construct created it */
  public readonly secret?: SecretsmanagerSecret;
  /** the CA's secret (`tls.ca` from an existing secret): the gateway must be allowed to read it too */
  public readonly caSecretArn?: string;
  /** what the gateway's container must have in its environment for this connection (a CA given as text), escaped for Terraform */
  public readonly environment: readonly ContainerEnvironmentEntry[];
  private readonly target: string;
  private readonly tls?: TlsConfigEntry;

  constructor(scope: Construct, id: string, props: HoopConnectionProps) {
    super(scope, id);
    const where = `HoopConnection ${this.node.path}`;
    checkDeclared(where, props);
    this.name = props.name;
    this.kind = props.kind;
    this.target = targetUrl(where, props);
    if (props.kind === "ssh" && props.tls !== undefined) throw new Error(`${where}: tls applies to postgres connections only`);
    const tls = props.kind === "postgres" ? upstreamTls(where, props) : undefined;
    this.tls = tls?.entry;
    this.caSecretArn = tls?.caSecretArn;
    this.environment = tls?.environment ?? [];
    const mode = tls?.entry.mode;
    if (mode !== undefined && UNVERIFIED[mode] !== undefined) Annotations.of(this).addWarning(`connection ${props.name}: tls mode ${mode} ${UNVERIFIED[mode]}`);

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
    return this.tls !== undefined
      ? { target: this.target, password: this.secretArn, tls: this.tls }
      : { target: this.target, private_key: this.secretArn };
  }

  public readStatement(): PolicyStatement {
    return { actions: ["secretsmanager:GetSecretValue"], resources: [this.secretArn, ...(this.caSecretArn !== undefined ? [this.caSecretArn] : [])] };
  }

  /** Let `role` read this connection's credential and CA secret (and no other secret). */
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

const SECRET_ARN = /^arn:aws(-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:\S+$/;
const UNVERIFIED: Partial<Record<UpstreamTlsMode, string>> = {
  disable: "sends the password and every row unencrypted",
  require: "does not verify the server: an impostor on the path gets the password",
};

interface UpstreamTlsParts {
  entry: TlsConfigEntry;
  environment: ContainerEnvironmentEntry[];
  caSecretArn?: string;
}

/**
 * The postgres connection's TLS, checked with the gateway's own rules. Every HoopConnection has
 * a password, and for a target with a password the gateway's default is verify-full whatever
 * the host (runtime/config/upstream-tls.ts): without a CA only publicly trusted certificates
 * pass, so a connection that states neither a CA nor a mode fails here rather than at runtime.
 */
function upstreamTls(where: string, props: HoopConnectionProps): UpstreamTlsParts {
  const { mode = "verify-full", ca } = props.tls ?? {};
  if (props.tls?.mode === undefined && ca === undefined) {
    throw new Error(
      `${where}: connection "${props.name}" needs tls: the CA its server's certificate chains to (tls.ca; for RDS and Aurora the ` +
        "region's bundle from https://truststore.pki.rds.amazonaws.com) or an explicit tls.mode. Without either the gateway verifies " +
        "the server against the public roots only, which RDS and most private databases do not chain to, and would refuse to connect at runtime",
    );
  }
  if (!TLS_MODES.includes(mode)) throw new Error(`${where}: tls.mode must be one of ${TLS_MODES.join(", ")}, not ${JSON.stringify(mode)}`);
  if (UNVERIFIED[mode] !== undefined && ca !== undefined) {
    throw new Error(`${where}: tls.ca has no effect with tls.mode ${mode}, which does not verify the server: use verify-ca or verify-full`);
  }
  if (ca?.source === "existing") {
    // the gateway reads any other value as a file path
    if (!Token.isUnresolved(ca.secretArn) && !SECRET_ARN.test(ca.secretArn)) throw new Error(`${where}: tls.ca.secretArn must be a Secrets Manager secret ARN, not ${JSON.stringify(ca.secretArn)}`);
    return { entry: { mode, ca_file: ca.secretArn }, environment: [], caSecretArn: ca.secretArn };
  }
  // spliced into the container definitions' JSON at synth: a value Terraform fills in later could break it
  if (ca !== undefined && Token.isUnresolved(ca.pem)) throw new Error(`${where}: tls.ca.pem must be text known at synth (e.g. readFileSync); for a value from Terraform use a secret (source: "existing")`);
  // the gateway's rules: verify-ca without a CA (named tls.ca), a PEM that holds no valid certificate (tls.ca.pem)
  const [problem] = tlsProblems({ mode, ca: ca?.pem }, { mode: "tls.mode", ca: ca === undefined ? "tls.ca" : "tls.ca.pem", cert: "tls.cert", privateKey: "tls.key" });
  if (problem !== undefined) throw new Error(`${where}: ${problem.field} ${problem.message}`);
  if (ca === undefined) return { entry: { mode }, environment: [] };
  const variable = `HOOPGATE_TLS_CA_${props.name.toUpperCase().replace(/-/g, "_")}`;
  return { entry: { mode, ca_file: `env:${variable}` }, environment: [{ name: variable, value: escapeTerraformTemplate(ca.pem) }] };
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

// HoopPolicyBundle: compiles a directory of `.hoop` policies at synth time and uploads the
// bundle to S3 under a content-addressed key. Policy errors (and, with `runTests`, failing
// policy tests) fail synth with the compiler's `file:line:col` diagnostics.

import { createHash, createPublicKey, type JsonWebKey } from "node:crypto";
import { Annotations } from "cdktf";
import { Construct } from "constructs";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role/index.js";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy/index.js";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket/index.js";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object/index.js";
import { compilePaths, signBundle } from "../compiler/index.js";
import { hasErrors } from "../dsl/diagnostic.js";
import { renderDiagnostics } from "../dsl/render-diagnostic.js";
import type { Bundle } from "../runtime/bundle/format.js";
import { escapeTerraformTemplate } from "./escape.js";
import { policyDocument, type PolicyStatement } from "./iam.js";
import { runPolicyTestsSync } from "./policy-tests.js";

export interface BundleSigningKey {
  /** PKCS#8 PEM of an Ed25519 (EdDSA) or EC P-256 (ES256) private key */
  readonly privateKeyPem: string;
  /** key id the gateway picks the verification key by */
  readonly kid: string;
}

export interface HoopPolicyBundleProps {
  /** a directory (every `*.hoop` below it) or a single `.hoop` file */
  readonly path: string;
  /** diagnostics show paths relative to this directory; default `process.cwd()` */
  readonly cwd?: string;
  /** run the policies' `test` blocks (`hoopgate test`) and fail synth on a failure; default false */
  readonly runTests?: boolean;
  /** sign the bundle (JWS); the gateway loads only signed bundles */
  readonly signingKey?: BundleSigningKey;
  /** bucket to upload to; default a new private bucket */
  readonly bucket?: S3Bucket;
  /** object key prefix; default `bundles/` */
  readonly keyPrefix?: string;
}

export interface BundleVerificationKey {
  readonly kid: string;
  /** public key only */
  readonly jwk: JsonWebKey;
}

const SAFE_KEY_PREFIX = /^[A-Za-z0-9!_.*'()/-]*$/;

export class HoopPolicyBundle extends Construct {
  /** the compiled bundle document */
  public readonly document: Bundle;
  public readonly bucket: S3Bucket;
  public readonly object: S3Object;
  /** `PREFIX + sha256 + (.jws | .json)` */
  public readonly objectKey: string;
  /** sha256 (hex) of the uploaded bytes: the signed JWS, or the bundle JSON when unsigned */
  public readonly sha256: string;
  /** the keys a gateway must trust to load this bundle; empty when unsigned */
  public readonly verificationKeys: BundleVerificationKey[];

  constructor(scope: Construct, id: string, props: HoopPolicyBundleProps) {
    super(scope, id);
    const keyPrefix = props.keyPrefix ?? "bundles/";
    if (!SAFE_KEY_PREFIX.test(keyPrefix)) {
      throw new Error(`HoopPolicyBundle ${this.node.path}: keyPrefix ${JSON.stringify(keyPrefix)} may only contain letters, digits and !_.*'()/-`);
    }
    const cwd = props.cwd ?? process.cwd();
    this.document = this.compile(props.path, cwd);
    if (props.runTests) runPolicyTestsSync(props.path, cwd);

    const body = props.signingKey
      ? signBundle(this.document, props.signingKey.privateKeyPem, props.signingKey.kid)
      : JSON.stringify(this.document);
    this.verificationKeys = props.signingKey ? [verificationKey(props.signingKey)] : [];
    this.sha256 = createHash("sha256").update(body, "utf8").digest("hex");
    this.objectKey = `${keyPrefix}${this.sha256}${props.signingKey ? ".jws" : ".json"}`;

    this.bucket = props.bucket ?? this.newBucket();
    this.object = new S3Object(this, "object", {
      bucket: this.bucket.bucket,
      key: this.objectKey,
      content: escapeTerraformTemplate(body),
      contentType: props.signingKey ? "application/jose" : "application/json",
    });
  }

  /** `true` when the uploaded object is a signed JWS */
  public get signed(): boolean {
    return this.verificationKeys.length > 0;
  }

  /** ARN of the uploaded object: what a reader must be allowed to `s3:GetObject` */
  public get objectArn(): string {
    return `${this.bucket.arn}/${this.objectKey}`;
  }

  /** `s3://bucket/key`, the gateway's bundle source */
  public get s3Url(): string {
    return `s3://${this.bucket.bucket}/${this.objectKey}`;
  }

  /** declared connection names, for validating HoopConnection names */
  public get connectionNames(): string[] {
    return Object.keys(this.document.connections).sort();
  }

  public readStatement(): PolicyStatement {
    return { actions: ["s3:GetObject"], resources: [this.objectArn] };
  }

  /** Let `role` read this bundle object (and nothing else in the bucket). */
  public grantRead(role: IamRole): IamRolePolicy {
    return new IamRolePolicy(this, `read-${role.node.addr}`, {
      role: role.name,
      name: `hoopgate-bundle-read-${this.node.addr.slice(0, 12)}`,
      policy: policyDocument([this.readStatement()]),
    });
  }

  private compile(path: string, cwd: string): Bundle {
    const result = compilePaths([path], { cwd });
    const rendered = (severity: "error" | "warning") =>
      renderDiagnostics(
        result.diagnostics.filter((d) => d.severity === severity),
        { color: false, sources: result.sources },
      );
    if (hasErrors(result.diagnostics) || !result.bundle) {
      throw new Error(`HoopPolicyBundle ${this.node.path}: the policies in ${path} do not compile:\n${rendered("error")}`);
    }
    if (result.diagnostics.length > 0) Annotations.of(this).addWarning(rendered("warning"));
    return result.bundle;
  }

  private newBucket(): S3Bucket {
    const bucket = new S3Bucket(this, "bucket", { bucketPrefix: "hoopgate-bundles-" });
    new S3BucketPublicAccessBlock(this, "public-access-block", {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    return bucket;
  }
}

function verificationKey(key: BundleSigningKey): BundleVerificationKey {
  const jwk = createPublicKey(key.privateKeyPem).export({ format: "jwk" });
  return { kid: key.kid, jwk };
}

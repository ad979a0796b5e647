// `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME` references, read once at start with
// GetSecretValue in the ARN's region, with the default credential chain (on ECS: the task
// role). A SecretString that is a JSON object yields the field named like the config key
// (`password`, `private_key`, …), as RDS-managed secrets hold `{"username", "password", …}`;
// any other SecretString is the credential itself. Binary secrets are refused.

import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { awsCallOptions, describeAwsError } from "../aws/request.js";
import type { SecretResult } from "./secrets.js";

const SECRET_ARN = /^arn:aws(?:-[a-z]+)*:secretsmanager:([a-z]{2}(?:-[a-z]+)+-\d+):\d{12}:secret:[^:\s]+$/;

/** one client per region, kept for the process */
const clients = new Map<string, SecretsManagerClient>();

export async function readSecretsManagerSecret(arn: string, field: string): Promise<SecretResult> {
  const region = SECRET_ARN.exec(arn)?.[1];
  if (region === undefined) {
    return { ok: false, message: "is not an AWS Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)" };
  }
  const sdk = await import("@aws-sdk/client-secrets-manager");
  const client = clients.get(region) ?? new sdk.SecretsManagerClient({ region });
  clients.set(region, client);
  let text: string | undefined;
  try {
    text = (await client.send(new sdk.GetSecretValueCommand({ SecretId: arn }), awsCallOptions())).SecretString;
  } catch (error) {
    return { ok: false, message: `cannot read AWS secret ${arn}: ${describeAwsError(error)}` };
  }
  if (text === undefined) return { ok: false, message: `AWS secret ${arn} holds binary data; store the credential as a string` };
  return pickField(arn, text, field);
}

function pickField(arn: string, text: string, field: string): SecretResult {
  if (text === "") return { ok: false, message: `AWS secret ${arn} is empty` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: true, value: text };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { ok: true, value: text };
  const value = (parsed as Record<string, unknown>)[field];
  if (typeof value !== "string" || value === "") {
    return { ok: false, message: `AWS secret ${arn} is a JSON object without a non-empty string "${field}" field` };
  }
  return { ok: true, value };
}

// A stand-in for the two AWS calls the gateway makes: S3 GetObject (path-style URLs) and
// Secrets Manager GetSecretValue (AWS JSON 1.1). S3 and Secrets Manager do not run on this
// machine, so this server answers in their wire format and the real AWS SDK is pointed at it
// with its documented endpoint overrides (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SECRETS_MANAGER)
// and static test credentials. It checks that each request is SigV4-signed with those
// credentials and records the region and service of the signature's scope.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const FAKE_ACCESS_KEY_ID = "AKIAHOOPGATETEST0001";
export const FAKE_SECRET_ACCESS_KEY = "hoopgate-test-secret-access-key-not-real";

/** An object's body, or the error status S3 answers for it. */
export type FakeObject = { body: string } | { status: 403 | 404 };

export interface SignedRequest {
  service: string;
  region: string;
  method: string;
  path: string;
}

export interface FakeAws {
  endpoint: string;
  /** `bucket/key` → object */
  objects: Map<string, FakeObject>;
  /** secret ARN → SecretString, or `{ binary }` for a SecretBinary-only secret */
  secrets: Map<string, string | { binary: Uint8Array }>;
  requests: SignedRequest[];
  /** process.env entries that send the SDK here */
  env: Record<string, string>;
  close(): Promise<void>;
}

const S3_ERRORS = { 403: ["AccessDenied", "Access Denied"], 404: ["NoSuchKey", "The specified key does not exist."] } as const;

export async function startFakeAws(): Promise<FakeAws> {
  const objects = new Map<string, FakeObject>();
  const secrets = new Map<string, string | { binary: Uint8Array }>();
  const requests: SignedRequest[] = [];

  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const scope = signatureScope(req);
      if (scope === undefined) return s3Error(res, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
      const path = new URL(req.url ?? "/", "http://fake").pathname;
      requests.push({ ...scope, method: req.method ?? "", path });
      if (scope.service === "s3" && req.method === "GET") return getObject(res, path, objects);
      if (scope.service === "secretsmanager" && req.method === "POST") return getSecretValue(req, res, body, secrets);
      res.writeHead(400, { "content-type": "text/plain" }).end(`fake AWS does not implement ${req.method} ${path} for ${scope.service}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    objects,
    secrets,
    requests,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
      AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: FAKE_SECRET_ACCESS_KEY,
      AWS_REGION: "eu-west-1",
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, …` with our test key id. */
function signatureScope(req: IncomingMessage): { service: string; region: string } | undefined {
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request,/.exec(req.headers.authorization ?? "");
  if (match?.[1] !== FAKE_ACCESS_KEY_ID) return undefined;
  return { region: match[2] ?? "", service: match[3] ?? "" };
}

function getObject(res: ServerResponse, path: string, objects: Map<string, FakeObject>): void {
  const [, bucket = "", ...key] = path.split("/");
  const object = objects.get(`${bucket}/${decodeURIComponent(key.join("/"))}`) ?? { status: 404 as const };
  if ("status" in object) return s3Error(res, object.status, ...S3_ERRORS[object.status]);
  const body = Buffer.from(object.body, "utf8");
  res.writeHead(200, {
    "content-type": "application/jose",
    "content-length": body.length,
    etag: `"${body.length}-${body.subarray(0, 8).toString("hex")}"`,
    "last-modified": new Date().toUTCString(),
  }).end(body);
}

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "content-type": "application/xml" })
    .end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fake</RequestId></Error>`);
}

function getSecretValue(
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  secrets: Map<string, string | { binary: Uint8Array }>,
): void {
  const json = (status: number, value: unknown, type?: string) =>
    res.writeHead(status, { "content-type": "application/x-amz-json-1.1", ...(type && { "x-amzn-errortype": type }) }).end(JSON.stringify(value));
  if (req.headers["x-amz-target"] !== "secretsmanager.GetSecretValue") {
    return json(400, { __type: "UnknownOperationException", message: `fake AWS does not implement ${String(req.headers["x-amz-target"])}` }, "UnknownOperationException");
  }
  const { SecretId } = JSON.parse(body) as { SecretId: string };
  const secret = secrets.get(SecretId);
  if (secret === undefined) {
    return json(400, { __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." }, "ResourceNotFoundException");
  }
  const name = SecretId.split(":secret:")[1] ?? SecretId;
  const value = typeof secret === "string" ? { SecretString: secret } : { SecretBinary: Buffer.from(secret.binary).toString("base64") };
  json(200, { ARN: SecretId, Name: name, VersionId: "00000000-0000-0000-0000-000000000001", VersionStages: ["AWSCURRENT"], CreatedDate: 1_700_000_000, ...value });
}

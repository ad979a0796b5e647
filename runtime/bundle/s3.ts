// GetObject for an `s3://bucket/key` bundle location, with the default credential chain (on
// ECS: the task role) in the region of AWS_REGION (or AWS_DEFAULT_REGION); a bucket in
// another region is followed through S3's redirect. Loaded only for s3:// locations.

import { GetObjectCommand, S3Client, type GetObjectCommandOutput } from "@aws-sdk/client-s3";
import { awsCallOptions, describeAwsError } from "../aws/request.js";
import type { BundleLocation } from "../config/types.js";

type S3Location = Extract<BundleLocation, { kind: "s3" }>;

/** kept between polls, so credentials are fetched once and refreshed by the SDK */
let cached: { region: string; client: S3Client } | undefined;

/** The object's text; throws `GET s3://…: reason` when it cannot be read. */
export async function fetchS3Object(location: S3Location, maxBytes: number): Promise<string> {
  const where = `GET ${location.url}`;
  const region = awsRegion(where);
  if (cached?.region !== region) cached = { region, client: new S3Client({ region, followRegionRedirects: true }) };
  const { client } = cached;
  let object: GetObjectCommandOutput;
  let text: string;
  try {
    object = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }), awsCallOptions());
    if ((object.ContentLength ?? 0) > maxBytes) {
      await object.Body?.transformToWebStream().cancel();
      throw new RangeError(`bundle over the ${maxBytes} byte limit`);
    }
    text = (await object.Body?.transformToString("utf-8")) ?? "";
  } catch (error) {
    throw new Error(`${where}: ${error instanceof RangeError ? error.message : describeAwsError(error)}`);
  }
  if (text.length > maxBytes) throw new Error(`${where}: bundle over the ${maxBytes} byte limit`);
  return text;
}

function awsRegion(where: string): string {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (region === undefined || region === "") {
    throw new Error(`${where}: the AWS region is not known; set AWS_REGION (ECS sets it in Fargate tasks)`);
  }
  return region;
}

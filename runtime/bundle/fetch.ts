// Reads the bundle document from where the config says it lives: a file, an http(s) URL or
// an S3 object.

import { readFile, stat } from "node:fs/promises";
import type { BundleLocation } from "../config/types.js";
import { redactUrl } from "./origin.js";

/** Far above any real bundle; stops a wrong path or URL from filling memory. */
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 10_000;

/** The document's text, or undefined when the file does not exist (yet). */
export async function fetchBundleText(location: BundleLocation): Promise<string | undefined> {
  switch (location.kind) {
    case "file":
      return readBundleFile(location.path);
    case "url":
      return fetchBundleUrl(location.url);
    case "s3": {
      // loaded only here, so file and URL sources (and `hoopgate check`/`test`) never load the AWS SDK
      const { fetchS3Object } = await import("./s3.js");
      return fetchS3Object(location, MAX_BUNDLE_BYTES);
    }
  }
}

async function readBundleFile(path: string): Promise<string | undefined> {
  try {
    const { size } = await stat(path);
    if (size > MAX_BUNDLE_BYTES) throw new Error(`bundle file ${path} is ${size} bytes, over the ${MAX_BUNDLE_BYTES} limit`);
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

async function fetchBundleUrl(url: string): Promise<string> {
  // errors name the URL without its query string or userinfo (origin.ts)
  const shown = redactUrl(url);
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`GET ${shown}: HTTP ${response.status}`);
  if (Number(response.headers.get("content-length") ?? 0) > MAX_BUNDLE_BYTES) {
    throw new Error(`GET ${shown}: bundle over the ${MAX_BUNDLE_BYTES} byte limit`);
  }
  const text = await response.text();
  if (text.length > MAX_BUNDLE_BYTES) throw new Error(`GET ${shown}: bundle over the ${MAX_BUNDLE_BYTES} byte limit`);
  return text;
}

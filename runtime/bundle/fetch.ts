// Reads the bundle document from where the config says it lives: a file or an http(s) URL.

import { readFile, stat } from "node:fs/promises";
import type { BundleLocation } from "../config/types.js";

/** Far above any real bundle; stops a wrong path or URL from filling memory. */
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 10_000;

/** The same "not supported" answer wherever an s3:// location is met. */
export function checkBundleLocation(location: BundleLocation): void {
  if (location.kind === "url" && location.url.startsWith("s3://")) {
    throw new Error(`bundle.url: s3:// bundle sources are not supported yet (use a file path or an https:// URL): ${location.url}`);
  }
}

/** The document's text, or undefined when the file does not exist (yet). */
export async function fetchBundleText(location: BundleLocation): Promise<string | undefined> {
  checkBundleLocation(location);
  return location.kind === "file" ? readBundleFile(location.path) : fetchBundleUrl(location.url);
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
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  if (Number(response.headers.get("content-length") ?? 0) > MAX_BUNDLE_BYTES) {
    throw new Error(`GET ${url}: bundle over the ${MAX_BUNDLE_BYTES} byte limit`);
  }
  const text = await response.text();
  if (text.length > MAX_BUNDLE_BYTES) throw new Error(`GET ${url}: bundle over the ${MAX_BUNDLE_BYTES} byte limit`);
  return text;
}

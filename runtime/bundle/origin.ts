// Where the bundle comes from, as it is shown (GET /api/bundle, which needs no token; the admin
// API; the audit log's bundle_loaded entries) and logged. An http(s) URL loses its userinfo,
// query string and fragment: a presigned URL's X-Amz-Signature, an access token in a query
// parameter or a password are credentials, not a location. A file path and an s3:// URL (whose
// key is taken literally, `?` included, and is not a secret) are shown as written.

import type { BundleLocation } from "../config/types.js";

export function bundleOrigin(location: BundleLocation): string {
  switch (location.kind) {
    case "file":
      return location.path;
    case "s3":
      return location.url;
    case "url":
      return redactUrl(location.url);
  }
}

/** `scheme://host[:port]/path` of an http(s) URL; what cannot be parsed is cut at the first `?` or `#` and its userinfo dropped. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    url.username = "";
    url.password = "";
    url.search = "";
    url.hash = "";
    return url.href;
  } catch {
    return text.replace(/[?#].*$/s, "").replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i, "$1");
  }
}

/** `message` with every occurrence of the location's raw URL replaced by its shown form (errors from fetch and the AWS SDK may quote it). */
export function scrubOrigin(message: string, location: BundleLocation): string {
  if (location.kind !== "url") return message;
  const shown = redactUrl(location.url);
  let out = message;
  for (const raw of new Set([location.url, parsedHref(location.url)])) {
    if (raw !== undefined && raw !== shown) out = out.replaceAll(raw, shown);
  }
  return out;
}

function parsedHref(text: string): string | undefined {
  try {
    return new URL(text).href;
  } catch {
    return undefined;
  }
}

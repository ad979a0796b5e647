// The sha256 a bundle document carries, read without verifying (the gateway verifies): from
// plain JSON, or from the payload of a compact JWS.

export function bundleDocumentDigest(document: string): string | undefined {
  const text = document.trim();
  let json: string;
  if (text.startsWith("{")) json = text;
  else {
    const payload = text.split(".")[1];
    if (payload === undefined) return undefined;
    json = Buffer.from(payload, "base64url").toString("utf8");
  }
  try {
    const sha = (JSON.parse(json) as { sha256?: unknown }).sha256;
    return typeof sha === "string" ? sha : undefined;
  } catch {
    return undefined;
  }
}

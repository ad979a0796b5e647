// SCRAM-SHA-256 client (RFC 5802, RFC 7677) as PostgreSQL speaks it: no channel binding, the
// user name left empty (the server takes it from the startup packet).

import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

export const SCRAM_SHA_256 = "SCRAM-SHA-256";

export class ScramError extends Error {}

export class ScramClient {
  private readonly nonce = randomBytes(18).toString("base64");
  private readonly clientFirstBare = `n=,r=${this.nonce}`;
  private serverSignature: Buffer | null = null;

  constructor(private readonly password: string) {}

  clientFirst(): string {
    return `n,,${this.clientFirstBare}`;
  }

  /** server-first-message in, client-final-message out */
  clientFinal(serverFirst: string): string {
    const attrs = parseAttributes(serverFirst);
    const serverNonce = attrs.get("r");
    const salt = attrs.get("s");
    const iterations = Number(attrs.get("i"));
    if (serverNonce === undefined || !serverNonce.startsWith(this.nonce) || serverNonce === this.nonce) {
      throw new ScramError("server nonce does not extend the client nonce");
    }
    if (salt === undefined || salt === "") throw new ScramError("server sent no salt");
    if (!Number.isInteger(iterations) || iterations < 1) throw new ScramError("invalid iteration count");
    const salted = pbkdf2Sync(this.password.normalize("NFKC"), Buffer.from(salt, "base64"), iterations, 32, "sha256");
    const clientKey = hmac(salted, "Client Key");
    const storedKey = createHash("sha256").update(clientKey).digest();
    const finalWithoutProof = `c=biws,r=${serverNonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${finalWithoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ signature[i]!;
    this.serverSignature = hmac(hmac(salted, "Server Key"), authMessage);
    return `${finalWithoutProof},p=${proof.toString("base64")}`;
  }

  /** server-final-message: proves the server knew the password too */
  verifyServerFinal(serverFinal: string): void {
    const attrs = parseAttributes(serverFinal);
    const error = attrs.get("e");
    if (error !== undefined) throw new ScramError(`server refused: ${error}`);
    const verifier = Buffer.from(attrs.get("v") ?? "", "base64");
    const expected = this.serverSignature;
    if (expected === null || verifier.length !== expected.length || !timingSafeEqual(verifier, expected)) {
      throw new ScramError("server signature does not match");
    }
  }
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac("sha256", key).update(text).digest();
}

function parseAttributes(message: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const part of message.split(",")) {
    const eq = part.indexOf("=");
    if (eq !== 1) throw new ScramError(`malformed SCRAM attribute "${part}"`);
    attrs.set(part[0]!, part.slice(2));
  }
  return attrs;
}

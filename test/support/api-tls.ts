// A private CA and a certificate it issued for localhost and 127.0.0.1, made with the openssl
// CLI, for the gateway's HTTPS API (its `tls`) and the clients that must trust that CA.

import { execFile } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface ApiCertificates {
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: string;
  cert: string;
  key: string;
  /** base64 sha256 of the certificate's public key: Chromium's --ignore-certificate-errors-spki-list pin */
  spki: string;
}

export async function makeApiCertificates(dir: string): Promise<ApiCertificates> {
  const at = (name: string): string => join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  try {
    await run("openssl", ["req", "-x509", ...ec, "-keyout", at("api-ca.key"), "-out", at("api-ca.crt"), "-days", "2", "-subj", "/CN=hoopgate test API CA",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    await writeFile(at("api.ext"), "subjectAltName = DNS:localhost, IP:127.0.0.1\nextendedKeyUsage = serverAuth\n");
    await run("openssl", ["req", "-new", ...ec, "-keyout", at("api.key"), "-out", at("api.csr"), "-subj", "/CN=localhost"]);
    await run("openssl", ["x509", "-req", "-in", at("api.csr"), "-CA", at("api-ca.crt"), "-CAkey", at("api-ca.key"), "-CAcreateserial",
      "-out", at("api.crt"), "-days", "2", "-extfile", at("api.ext")]);
  } catch (err) {
    throw new Error(`the HTTPS API tests make their certificates with the openssl CLI, which failed: ${String(err)}`);
  }
  const [ca, cert, key] = await Promise.all([readFile(at("api-ca.crt"), "utf8"), readFile(at("api.crt"), "utf8"), readFile(at("api.key"), "utf8")]);
  const spkiDer = new X509Certificate(cert).publicKey.export({ type: "spki", format: "der" });
  return {
    caFile: at("api-ca.crt"), certFile: at("api.crt"), keyFile: at("api.key"), ca, cert, key,
    spki: createHash("sha256").update(spkiDer).digest("base64"),
  };
}

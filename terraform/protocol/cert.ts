// The provider's side of go-plugin's AutoMTLS: a fresh EC P-256 key and a self-signed
// certificate for `localhost`, made per process (a few milliseconds), whose DER terraform
// pins for this one connection.

import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { bitString, bool, explicit, generalizedTime, implicit, octetString, oid, sequence, set, smallInteger, tlv, unsignedInteger, utf8String } from "./der.js";

export interface ServerCertificate {
  /** PEM, for the TLS server */
  certPem: string;
  keyPem: string;
  /** DER, as announced on the handshake line */
  der: Buffer;
}

const ECDSA_WITH_SHA256 = sequence(oid("1.2.840.10045.4.3.2"));

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [bool(true)] : []), octetString(value));
}

export function selfSignedCertificate(now = new Date()): ServerCertificate {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const name = sequence(
    set(sequence(oid("2.5.4.10"), utf8String("HashiCorp"))),
    set(sequence(oid("2.5.4.3"), utf8String("localhost"))),
  );
  // Back-dated a little for clock skew; one day is far longer than any terraform run.
  const notBefore = new Date(now.getTime() - 5 * 60_000);
  const notAfter = new Date(now.getTime() + 24 * 3600_000);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const extensions = sequence(
    extension("2.5.29.19", true, sequence(bool(true))), // basicConstraints: CA (go-plugin's own certs are)
    extension("2.5.29.15", true, tlv(0x03, Buffer.from([2, 0x84]))), // keyUsage: digitalSignature, keyCertSign (2 unused bits)
    extension("2.5.29.37", false, sequence(oid("1.3.6.1.5.5.7.3.1"), oid("1.3.6.1.5.5.7.3.2"))), // serverAuth, clientAuth
    extension("2.5.29.17", false, sequence(implicit(2, Buffer.from("localhost", "ascii")))), // subjectAltName DNS:localhost
  );
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(serial),
    ECDSA_WITH_SHA256,
    name,
    sequence(generalizedTime(notBefore), generalizedTime(notAfter)),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    explicit(3, extensions),
  );
  const signature = sign("sha256", tbs, { key: privateKey, dsaEncoding: "der" });
  const der = sequence(tbs, ECDSA_WITH_SHA256, bitString(signature));
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return {
    der,
    certPem: `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`,
    keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

// go-plugin's handshake, provider side: check the magic cookie and the protocol version
// terraform offers, bind a port in its range, and announce
// `1|6|tcp|127.0.0.1:PORT|grpc|CERT` as the one and only line on stdout.

export const MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE";
export const MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
export const PROTOCOL_VERSION = 6;

export class HandshakeError extends Error {
  override name = "HandshakeError";
}

export interface HandshakeEnv {
  clientCertPem: string;
  minPort: number;
  maxPort: number;
}

export function readHandshakeEnv(env: NodeJS.ProcessEnv): HandshakeEnv {
  if (env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    throw new HandshakeError("This binary is a plugin. It is meant to be executed by terraform (terraform init -plugin-dir=DIR), not directly.");
  }
  const offered = (env.PLUGIN_PROTOCOL_VERSIONS ?? "").split(",").map((v) => Number(v.trim()));
  if (!offered.includes(PROTOCOL_VERSION)) {
    throw new HandshakeError(`terraform offers plugin protocol versions ${env.PLUGIN_PROTOCOL_VERSIONS ?? "(none)"}; this provider speaks only ${PROTOCOL_VERSION}`);
  }
  const clientCertPem = env.PLUGIN_CLIENT_CERT;
  if (!clientCertPem) throw new HandshakeError("PLUGIN_CLIENT_CERT is not set: terraform's AutoMTLS is required");
  const minPort = Number(env.PLUGIN_MIN_PORT ?? 10000);
  const maxPort = Number(env.PLUGIN_MAX_PORT ?? 25000);
  if (!Number.isInteger(minPort) || !Number.isInteger(maxPort) || minPort < 1 || maxPort > 65535 || minPort > maxPort) {
    throw new HandshakeError(`bad plugin port range ${env.PLUGIN_MIN_PORT}-${env.PLUGIN_MAX_PORT}`);
  }
  return { clientCertPem, minPort, maxPort };
}

export function handshakeLine(port: number, certDer: Buffer): string {
  return `1|${PROTOCOL_VERSION}|tcp|127.0.0.1:${port}|grpc|${certDer.toString("base64").replace(/=+$/, "")}\n`;
}

// Serves a provider the way terraform expects a plugin to: gRPC over mutual TLS on a port in
// the offered range, the handshake line on stdout, go-plugin's controller (Shutdown) and
// health services beside the provider service. Logs go to stderr only (stdout is the
// handshake channel).

import { Server, ServerCredentials, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { selfSignedCertificate } from "./cert.js";
import { handshakeLine, HandshakeError, readHandshakeEnv } from "./handshake.js";
import { loadProtocol } from "./load.js";

export type ProviderFactory = (stop: () => void) => UntypedServiceImplementation;

function bind(server: Server, port: number, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
  });
}

/** Resolves once the server is listening and announced; the process ends on Shutdown. */
export async function servePlugin(makeProvider: ProviderFactory, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const handshake = readHandshakeEnv(env);
  const protocol = loadProtocol();
  const cert = selfSignedCertificate();
  const credentials = ServerCredentials.createSsl(
    Buffer.from(handshake.clientCertPem),
    [{ cert_chain: Buffer.from(cert.certPem), private_key: Buffer.from(cert.keyPem) }],
    true,
  );
  const server = new Server();
  const stop = (): void => {
    server.tryShutdown(() => process.exit(0));
    // terraform is done with this process: a connection it leaves open must not keep it alive
    setTimeout(() => process.exit(0), 250).unref();
  };
  server.addService(protocol.provider.service, makeProvider(stop));
  server.addService(protocol.controller.service, {
    Shutdown: (_call: unknown, callback: (error: null, response: object) => void) => {
      callback(null, {});
      setImmediate(stop);
    },
  });
  server.addService(protocol.health.service, {
    Check: (_call: unknown, callback: (error: null, response: object) => void) => callback(null, { status: 1 }),
  });
  const span = handshake.maxPort - handshake.minPort + 1;
  const first = handshake.minPort + Math.floor(Math.random() * span);
  for (let i = 0; i < Math.min(span, 50); i++) {
    const port = handshake.minPort + ((first - handshake.minPort + i) % span);
    try {
      const bound = await bind(server, port, credentials);
      process.stdout.write(handshakeLine(bound, cert.der));
      return;
    } catch {
      // taken: try the next port in the range
    }
  }
  throw new HandshakeError(`no free port in ${handshake.minPort}-${handshake.maxPort}`);
}

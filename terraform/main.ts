// terraform-provider-hoopgate: the process terraform starts (through the launcher that
// `hoopgate provider install` writes).

import { HandshakeError } from "./protocol/handshake.js";
import { servePlugin } from "./protocol/serve.js";
import { providerService } from "./provider.js";
import { hoopgateProvider } from "./definition.js";

try {
  await servePlugin((stop) => providerService(hoopgateProvider, stop));
} catch (error) {
  process.stderr.write(`terraform-provider-hoopgate: ${error instanceof HandshakeError ? error.message : (error as Error).stack}\n`);
  process.exit(1);
}

// The example cdktf app: `npm run build`, then `node dist/examples/cdktf/main.js` (or
// `cdktf synth` in this directory) writes the Terraform JSON to ./cdktf.out.
//
// HOOPGATE_SIGNING_KEY_FILE  Ed25519 PEM that signs the bundle (default ./bundle-signing-key.pem)
// HOOPGATE_IMAGE             gateway image (default ghcr.io/acme/hoopgate:0.1.0)
// AWS_REGION                 default us-east-1

import { readFileSync } from "node:fs";
import { App } from "cdktf";
import { hoopgatePackageRoot } from "../../cdktf/package-root.js";
import { HoopgateExampleStack } from "./stack.js";

const keyFile = process.env.HOOPGATE_SIGNING_KEY_FILE ?? "bundle-signing-key.pem";
let signingKeyPem: string;
try {
  signingKeyPem = readFileSync(keyFile, "utf8");
} catch (e) {
  throw new Error(
    `cannot read the bundle signing key ${keyFile} (${(e as Error).message}); create one with ` +
      "`openssl genpkey -algorithm ed25519 -out bundle-signing-key.pem` or set HOOPGATE_SIGNING_KEY_FILE",
  );
}

const app = new App();
new HoopgateExampleStack(app, "hoopgate", {
  root: hoopgatePackageRoot(import.meta.url),
  signingKeyPem,
  region: process.env.AWS_REGION ?? "us-east-1",
  image: process.env.HOOPGATE_IMAGE ?? "ghcr.io/acme/hoopgate:0.1.0",
  runTests: true,
});
app.synth();

// The live-gateway cdktf app: `npm run build`, then `node dist/examples/cdktf-live/main.js`
// writes Terraform JSON to $CDKTF_OUTDIR (default ./cdktf.out); then, in
// cdktf.out/stacks/live-gateway, `terraform init -plugin-dir=MIRROR` (see
// `hoopgate provider install`) and `HOOPGATE_TOKEN=… terraform apply`.
//
// HOOPGATE_ENDPOINT          gateway API URL (default http://127.0.0.1:18080, a local gateway without tls;
//                            https://… when the gateway has tls)
// HOOPGATE_CA_FILE           PEM CA the API's certificate chains to (a private CA), put in the provider block
// HOOPGATE_POLICIES          .hoop directory (default: this example's policies/)
// HOOPGATE_SIGNING_KEY_FILE  Ed25519 PEM (default ./bundle-signing-key.pem), kid HOOPGATE_SIGNING_KID (default k1)
// HOOPGATE_ISSUER, HOOPGATE_JWKS_URL, HOOPGATE_AUDIENCE   the CI token issuer
// HOOPGATE_CONNECTION, HOOPGATE_TARGET                     the connection (default orders-db → local PostgreSQL)
// HOOPGATE_TLS_MODE, HOOPGATE_TLS_CA_FILE                  its TLS (default: the gateway's, verify-full
//                                                          unless loopback without password)
// HOOPGATE_WEBHOOK_URL       approval webhook

import { resolve } from "node:path";
import { App } from "cdktf";
import { hoopgatePackageRoot } from "../../cdktf/package-root.js";
import { LiveGatewayStack } from "./stack.js";

const env = process.env;
const app = new App({ outdir: env.CDKTF_OUTDIR ?? "cdktf.out" });
new LiveGatewayStack(app, "live-gateway", {
  endpoint: env.HOOPGATE_ENDPOINT ?? "http://127.0.0.1:18080",
  ...(env.HOOPGATE_CA_FILE !== undefined && { apiCaFile: resolve(env.HOOPGATE_CA_FILE) }),
  policies: resolve(env.HOOPGATE_POLICIES ?? `${hoopgatePackageRoot(import.meta.url)}/examples/cdktf-live/policies`),
  signingKeyFile: resolve(env.HOOPGATE_SIGNING_KEY_FILE ?? "bundle-signing-key.pem"),
  signingKid: env.HOOPGATE_SIGNING_KID ?? "k1",
  issuer: {
    url: env.HOOPGATE_ISSUER ?? "https://token.actions.githubusercontent.com",
    audience: (env.HOOPGATE_AUDIENCE ?? "hoopgate").split(","),
    jwksUrl: env.HOOPGATE_JWKS_URL ?? "https://token.actions.githubusercontent.com/.well-known/jwks",
  },
  connection: {
    name: env.HOOPGATE_CONNECTION ?? "orders-db",
    target: env.HOOPGATE_TARGET ?? "postgres://postgres@127.0.0.1:5432/postgres",
    tlsMode: env.HOOPGATE_TLS_MODE,
    tlsCaFile: env.HOOPGATE_TLS_CA_FILE === undefined ? undefined : resolve(env.HOOPGATE_TLS_CA_FILE),
  },
  webhookUrl: env.HOOPGATE_WEBHOOK_URL ?? "https://hooks.example.com/hoopgate",
});
app.synth();

// The hoopgate provider: its configuration and every resource and data source it serves.

import type { ProviderDefinition } from "./provider.js";
import { approvalWebhook } from "./resources/approval-webhook.js";
import { bundle } from "./resources/bundle.js";
import { connection } from "./resources/connection.js";
import { policyBundle } from "./resources/policy-bundle.js";
import { tokenIssuer } from "./resources/token-issuer.js";

export const hoopgateProvider: ProviderDefinition = {
  schema: {
    description: "Configures a running hoopgate gateway through its admin API.",
    attributes: {
      endpoint: { type: "string", optional: true, description: "the gateway's API URL, e.g. https://gateway.internal:8080 (default: HOOPGATE_ENDPOINT)" },
      token: { type: "string", optional: true, sensitive: true, description: "admin bearer token (default: HOOPGATE_TOKEN)" },
      ca_certificate: { type: "string", optional: true, description: "PEM CA certificate(s) the API's certificate chains to, e.g. file(\"gateway-ca.pem\"); without it the public roots (default: the file HOOPGATE_CA_FILE names)" },
    },
  },
  resources: [bundle, connection, tokenIssuer, approvalWebhook],
  dataSources: [policyBundle],
};

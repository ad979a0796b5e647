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
      endpoint: { type: "string", optional: true, description: "the gateway's API URL, e.g. http://127.0.0.1:18080 (default: HOOPGATE_ENDPOINT)" },
      token: { type: "string", optional: true, sensitive: true, description: "admin bearer token (default: HOOPGATE_TOKEN)" },
    },
  },
  resources: [bundle, connection, tokenIssuer, approvalWebhook],
  dataSources: [policyBundle],
};

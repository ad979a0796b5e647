// resource "hoopgate_approval_webhook": a URL the gateway posts each new approval request to.

import { requiredString } from "../schema/read-values.js";
import type { ResourceDefinition } from "../schema/resource.js";
import { DiagnosticError } from "../schema/types.js";

interface WebhookView {
  id: string;
  url: string;
}

const path = (id: string): string => `webhooks/${encodeURIComponent(id)}`;

export const approvalWebhook: ResourceDefinition = {
  typeName: "hoopgate_approval_webhook",
  schema: {
    description: "Where the gateway posts each new approval request.",
    attributes: {
      url: { type: "string", required: true, description: "http(s) URL receiving a JSON POST per request" },
      id: { type: "string", computed: true, keepPriorOnUnknown: true, description: "id the gateway assigned" },
    },
  },
  validate(config) {
    return typeof config.url === "string" && !/^https?:\/\/[^/]/.test(config.url)
      ? [new DiagnosticError("invalid url", "must be an http:// or https:// URL", ["url"])]
      : [];
  },
  async create(client, planned) {
    const view = await client.post<WebhookView>("webhooks", { url: requiredString(planned, "url") });
    return { ...planned, id: view.id, url: view.url };
  },
  async update(client, planned) {
    const view = await client.put<WebhookView>(path(requiredString(planned, "id")), { url: requiredString(planned, "url") });
    return { ...planned, url: view.url };
  },
  async read(client, state) {
    const view = await client.find<WebhookView>(path(requiredString(state, "id")));
    return view === undefined ? null : { ...state, id: view.id, url: view.url };
  },
  delete: (client, prior) => client.delete(path(requiredString(prior, "id"))),
  importState: (id) => ({ id }),
};

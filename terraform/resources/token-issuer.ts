// resource "hoopgate_token_issuer": an OIDC issuer whose tokens the gateway accepts.

import { parseJwksUrl } from "../../runtime/config/values.js";
import { requiredString, stringList } from "../schema/read-values.js";
import type { ResourceDefinition } from "../schema/resource.js";
import { DiagnosticError } from "../schema/types.js";

interface IssuerView {
  issuer: string;
  audience: string[];
  jwks_url: string;
}

const path = (issuer: string): string => `issuers/${encodeURIComponent(issuer)}`;

async function save(client: Parameters<ResourceDefinition["create"]>[0], planned: Parameters<ResourceDefinition["create"]>[1]) {
  const issuer = requiredString(planned, "issuer");
  const view = await client.put<IssuerView>(path(issuer), { audience: stringList(planned, "audience"), jwks_url: requiredString(planned, "jwks_url") });
  return { ...planned, id: view.issuer };
}

export const tokenIssuer: ResourceDefinition = {
  typeName: "hoopgate_token_issuer",
  schema: {
    description: "A trusted OIDC token issuer (for example GitHub Actions).",
    attributes: {
      issuer: { type: "string", required: true, requiresReplace: true, description: "exact `iss` value" },
      audience: { type: { list: "string" }, required: true, description: "accepted `aud` values" },
      jwks_url: { type: "string", required: true, description: "https URL of the issuer's JWKS" },
      id: { type: "string", computed: true, keepPriorOnUnknown: true, description: "the issuer" },
    },
  },
  validate(config) {
    const problems: DiagnosticError[] = [];
    if (typeof config.jwks_url === "string") {
      const url = parseJwksUrl(config.jwks_url);
      if (!url.ok) problems.push(new DiagnosticError("invalid jwks_url", `jwks_url ${url.message}`, ["jwks_url"]));
    }
    if (Array.isArray(config.audience) && config.audience.length === 0) problems.push(new DiagnosticError("audience is empty", "tokens must carry one of the accepted audiences", ["audience"]));
    return problems;
  },
  create: save,
  update: save,
  async read(client, state) {
    const view = await client.find<IssuerView>(path(requiredString(state, "id")));
    return view === undefined ? null : { ...state, id: view.issuer, issuer: view.issuer, audience: view.audience, jwks_url: view.jwks_url };
  },
  delete: (client, prior) => client.delete(path(requiredString(prior, "id"))),
  importState: (id) => ({ id, issuer: id }),
};

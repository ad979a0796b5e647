// resource "hoopgate_connection": a connection's target and credentials on the gateway. The
// password is write-only on the API; the state keeps the configured one.

import { parseTarget } from "../../runtime/config/values.js";
import { optionalString, requiredString } from "../schema/read-values.js";
import type { ResourceDefinition } from "../schema/resource.js";
import { DiagnosticError } from "../schema/types.js";

interface ConnectionView {
  name: string;
  target: string;
}

const path = (name: string): string => `connections/${encodeURIComponent(name)}`;

async function save(client: Parameters<ResourceDefinition["create"]>[0], planned: Parameters<ResourceDefinition["create"]>[1]) {
  const name = requiredString(planned, "name");
  const password = optionalString(planned, "password");
  const view = await client.put<ConnectionView>(path(name), { target: requiredString(planned, "target"), ...(password !== undefined && { password }) });
  return { ...planned, id: view.name, target: view.target };
}

export const connection: ResourceDefinition = {
  typeName: "hoopgate_connection",
  schema: {
    description: "A connection the gateway proxies: its target and the credentials clients never see.",
    attributes: {
      name: { type: "string", required: true, requiresReplace: true, description: "connection name as used in policies and as the client's database name" },
      target: { type: "string", required: true, description: "postgres://user@host:port/database or ssh://user@host:port" },
      password: { type: "string", optional: true, sensitive: true, description: "the target's password" },
      id: { type: "string", computed: true, keepPriorOnUnknown: true, description: "the connection name" },
    },
  },
  validate(config) {
    const problems: DiagnosticError[] = [];
    if (typeof config.name === "string" && !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(config.name)) {
      problems.push(new DiagnosticError("invalid connection name", "letters, digits, _ and -, not starting with a digit or -", ["name"]));
    }
    if (typeof config.target === "string") {
      const target = parseTarget(config.target);
      if (!target.ok) problems.push(new DiagnosticError("invalid target", `target ${target.message}`, ["target"]));
    }
    return problems;
  },
  create: save,
  update: save,
  async read(client, state) {
    const view = await client.find<ConnectionView>(path(requiredString(state, "id")));
    return view === undefined ? null : { ...state, id: view.name, name: view.name, target: view.target };
  },
  delete: (client, prior) => client.delete(path(requiredString(prior, "id"))),
  importState: (id) => ({ id, name: id }),
};

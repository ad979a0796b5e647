// resource "hoopgate_connection": a connection's target, credentials and TLS on the gateway.
// The password and the TLS PEMs are write-only on the API: the state keeps the configured
// ones, and only their removal on the gateway (`password_set`, `ca_set`, `client_cert_set`)
// shows as drift. `tls_mode` is the mode in force: when the configuration leaves it out, the
// plan works out the gateway's default (runtime/config/upstream-tls.ts) and sends it, so
// dropping `tls_mode = "disable"` plans the change back to verify-full. `require_auth` is the
// connection's allowed upstream login methods (runtime/config/README.md), read back as set.

import type { ConnectionTls } from "../../runtime/config/types.js";
import { UPSTREAM_AUTH_METHODS, type UpstreamTlsMode } from "../../runtime/postgres/context.js";
import { effectiveTlsMode, TLS_MODES, tlsProblems, type TlsFieldNames } from "../../runtime/config/upstream-tls.js";
import { parseTarget } from "../../runtime/config/values.js";
import { isUnknown, type TfObject, type TfValue } from "../protocol/values.js";
import { optionalString, requiredString, stringList } from "../schema/read-values.js";
import type { ResourceDefinition } from "../schema/resource.js";
import { DiagnosticError } from "../schema/types.js";

interface ConnectionView {
  name: string;
  target: string;
  password_set: boolean;
  /** postgres only */
  tls?: { mode: string; ca_set: boolean; client_cert_set: boolean };
  require_auth?: string[];
}

const path = (name: string): string => `connections/${encodeURIComponent(name)}`;

/** The attribute behind each field of the TLS rules the config file and the API share. */
const TLS_ATTRIBUTES: TlsFieldNames = { mode: "tls_mode", ca: "tls_ca", cert: "tls_cert", privateKey: "tls_key" };

const given = (value: TfValue | undefined): boolean => value !== null && value !== undefined;

/** The TLS settings of a configuration or plan; a value known only after apply stands in as a placeholder. */
function tlsOf(values: TfObject): ConnectionTls {
  const text = (attribute: string): string | undefined => {
    const value = values[attribute];
    return !given(value) ? undefined : isUnknown(value) ? "(known after apply)" : String(value);
  };
  return { mode: text(TLS_ATTRIBUTES.mode) as UpstreamTlsMode | undefined, ca: text(TLS_ATTRIBUTES.ca), cert: text(TLS_ATTRIBUTES.cert), privateKey: text(TLS_ATTRIBUTES.privateKey) };
}

async function save(client: Parameters<ResourceDefinition["create"]>[0], planned: TfObject) {
  const password = optionalString(planned, "password");
  // unknown only when the plan could not read the target: the gateway then applies its default
  const { mode, ca, cert, privateKey } = tlsOf(isUnknown(planned.tls_mode) ? { ...planned, tls_mode: null } : planned);
  const tls = { mode, ca, cert, key: privateKey };
  const requireAuth = given(planned.require_auth) ? stringList(planned, "require_auth") : undefined;
  const view = await client.put<ConnectionView>(path(requiredString(planned, "name")), {
    target: requiredString(planned, "target"),
    ...(password !== undefined && { password }),
    ...(Object.values(tls).some((value) => value !== undefined) && { tls }),
    ...(requireAuth !== undefined && { require_auth: requireAuth }),
  });
  return { ...planned, id: view.name, target: view.target, tls_mode: view.tls?.mode ?? null };
}

function validateTls(config: TfObject): DiagnosticError[] {
  const set = Object.values(TLS_ATTRIBUTES).filter((attribute) => given(config[attribute]));
  if (set.length === 0) return [];
  const target = typeof config.target === "string" ? parseTarget(config.target) : undefined;
  if (target?.ok && target.value.kind !== "postgres") {
    return [new DiagnosticError(`${set[0]} applies to postgres connections only`, "an ssh connection takes no tls_* attributes", [set[0]!])];
  }
  const mode = config.tls_mode;
  if (typeof mode === "string" && !(TLS_MODES as readonly string[]).includes(mode)) {
    return [new DiagnosticError("invalid tls_mode", `tls_mode must be one of ${TLS_MODES.join(", ")}`, ["tls_mode"])];
  }
  // the rules look at which settings are present: they wait until all of them are known
  if (set.some((attribute) => isUnknown(config[attribute]))) return [];
  return tlsProblems(tlsOf(config), TLS_ATTRIBUTES).map((p) => new DiagnosticError(`invalid ${p.field}`, `${p.field} ${p.message}`, [p.field]));
}

function validateRequireAuth(config: TfObject): DiagnosticError[] {
  const methods = config.require_auth;
  if (!Array.isArray(methods) || methods.some(isUnknown)) return [];
  const target = typeof config.target === "string" ? parseTarget(config.target) : undefined;
  if (target?.ok && target.value.kind !== "postgres") {
    return [new DiagnosticError("require_auth applies to postgres connections only", "an ssh connection takes no require_auth", ["require_auth"])];
  }
  if (methods.length === 0) return [new DiagnosticError("require_auth is empty", "list at least one method, or leave it out for the default", ["require_auth"])];
  const bad = methods.find((m) => typeof m !== "string" || !(UPSTREAM_AUTH_METHODS as readonly string[]).includes(m));
  if (bad !== undefined) return [new DiagnosticError("invalid require_auth", `${String(bad)} is not one of ${UPSTREAM_AUTH_METHODS.join(", ")}`, ["require_auth"])];
  if (new Set(methods).size !== methods.length) return [new DiagnosticError("invalid require_auth", "a method is listed twice", ["require_auth"])];
  return [];
}

export const connection: ResourceDefinition = {
  typeName: "hoopgate_connection",
  schema: {
    description: "A connection the gateway proxies: its target, the credentials clients never see, and the TLS the gateway uses to reach it.",
    attributes: {
      name: { type: "string", required: true, requiresReplace: true, description: "connection name as used in policies and as the client's database name" },
      target: { type: "string", required: true, description: "postgres://user@host:port/database or ssh://user@host:port" },
      password: { type: "string", optional: true, sensitive: true, description: "the target's password" },
      tls_mode: {
        type: "string",
        optional: true,
        computed: true,
        description: "postgres only: disable, require, verify-ca or verify-full; default verify-full (disable for a loopback target with no password and no tls_* PEMs). The state holds the mode in force.",
      },
      tls_ca: { type: "string", optional: true, description: "postgres only: PEM CA certificate(s) the server's chain must end in (RDS: the region's bundle); without it, the public roots" },
      tls_cert: { type: "string", optional: true, description: "postgres only: PEM client certificate, with tls_key" },
      tls_key: { type: "string", optional: true, sensitive: true, description: "postgres only: the client certificate's unencrypted PEM private key" },
      require_auth: {
        type: { list: "string" },
        optional: true,
        description: "postgres only: the login methods the gateway goes along with upstream (scram-sha-256, md5, password, none); default scram-sha-256 and none, plus md5 and password with tls_mode verify-ca or verify-full",
      },
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
    return [...problems, ...validateTls(config), ...validateRequireAuth(config)];
  },
  derive(proposed, config): TfObject {
    if (given(config.tls_mode) || typeof proposed.target !== "string") return {};
    const target = parseTarget(proposed.target);
    if (!target.ok) return {};
    if (target.value.kind !== "postgres") return { tls_mode: null };
    // proposed.tls_mode is the prior state's (terraform keeps it for an unset computed attribute)
    const { mode: _prior, ...pems } = tlsOf(proposed);
    return { tls_mode: effectiveTlsMode(target.value.host, given(proposed.password), pems) };
  },
  create: save,
  update: save,
  async read(client, state) {
    const view = await client.find<ConnectionView>(path(requiredString(state, "id")));
    if (view === undefined) return null;
    const kept = (attribute: string, set: boolean | undefined): TfValue => (set === true ? state[attribute] ?? null : null);
    return {
      ...state,
      id: view.name,
      name: view.name,
      target: view.target,
      password: kept("password", view.password_set),
      tls_mode: view.tls?.mode ?? null,
      tls_ca: kept("tls_ca", view.tls?.ca_set),
      tls_cert: kept("tls_cert", view.tls?.client_cert_set),
      tls_key: kept("tls_key", view.tls?.client_cert_set),
      require_auth: view.require_auth ?? null,
    };
  },
  delete: (client, prior) => client.delete(path(requiredString(prior, "id"))),
  importState: (id) => ({ id, name: id }),
};

// JSON schemas of the admin API's request bodies. Validated by our own Ajv instance so that
// unknown properties are refused, not silently dropped (fastify's default removes them).

import { Ajv, type ValidateFunction } from "ajv";
import { MAX_BUNDLE_BYTES } from "../../bundle/fetch.js";
import { TLS_MODES } from "../../config/upstream-tls.js";
import { UPSTREAM_AUTH_METHODS } from "../../postgres/context.js";

const NON_EMPTY = { type: "string", minLength: 1, maxLength: 4096 };
/** a CA bundle (RDS's global one is about 160 KB), a certificate or a key; the body limit (1 MiB) caps them together */
const PEM = { type: "string", minLength: 1, maxLength: 512 * 1024 };

const object = (properties: Record<string, unknown>, required: string[]) => ({ type: "object", additionalProperties: false, properties, required });

export const bodySchemas = {
  bundle: object({ bundle: { type: "string", minLength: 2, maxLength: MAX_BUNDLE_BYTES } }, ["bundle"]),
  connection: object({
    target: NON_EMPTY,
    password: NON_EMPTY,
    tls: object({ mode: { enum: [...TLS_MODES] }, ca: PEM, cert: PEM, key: PEM }, []),
    require_auth: { type: "array", minItems: 1, uniqueItems: true, items: { enum: [...UPSTREAM_AUTH_METHODS] } },
  }, ["target"]),
  issuer: object({ audience: { type: "array", minItems: 1, items: NON_EMPTY }, jwks_url: NON_EMPTY }, ["audience", "jwks_url"]),
  webhook: object({ url: { type: "string", pattern: "^https?://", maxLength: 4096 } }, ["url"]),
};

export type BodyName = keyof typeof bodySchemas;

const ajv = new Ajv({ allErrors: true, removeAdditional: false, coerceTypes: false, useDefaults: false });
const validators = Object.fromEntries(Object.entries(bodySchemas).map(([name, schema]) => [name, ajv.compile(schema)])) as Record<BodyName, ValidateFunction>;

/** null when valid, else a message naming each bad field */
export function bodyProblem(name: BodyName, body: unknown): string | null {
  const validate = validators[name];
  if (validate(body)) return null;
  return (validate.errors ?? []).map((e) => {
    const where = e.instancePath === "" ? "body" : e.instancePath.slice(1).replaceAll("/", ".");
    const extra = e.keyword === "additionalProperties" ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : "";
    return `${where} ${e.message ?? "is invalid"}${extra}`;
  }).join("; ");
}

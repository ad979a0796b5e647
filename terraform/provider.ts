// The tfplugin6 Provider service: terraform's RPCs mapped onto the declared resources and
// data sources. Every failure becomes a diagnostic; nothing throws across the wire.

import { readFileSync } from "node:fs";
import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from "@grpc/grpc-js";
import { AdminClient } from "./client.js";
import { decodeDynamic, encodeDynamic, type DynamicValue, type TfObject, type TfValue } from "./protocol/values.js";
import { encodeDiagnostic, encodeSchema } from "./schema/encode.js";
import { planResource } from "./schema/plan.js";
import { optionalString } from "./schema/read-values.js";
import type { DataSourceDefinition, ResourceDefinition } from "./schema/resource.js";
import { DiagnosticError, DiagnosticsError, isObject, normalize, type BlockSpec, type Diagnostic } from "./schema/types.js";

export interface ProviderDefinition {
  schema: BlockSpec;
  resources: ResourceDefinition[];
  dataSources: DataSourceDefinition[];
}

type Request = Record<string, unknown>;
type Handler = (request: Request) => Promise<Record<string, unknown>>;

function diagnosticsOf(error: unknown): Diagnostic[] {
  if (error instanceof DiagnosticsError) return error.diagnostics.flatMap(diagnosticsOf);
  if (error instanceof DiagnosticError) return [{ severity: "error", summary: error.summary, detail: error.detail, path: error.path }];
  return [{ severity: "error", summary: (error as Error).message ?? String(error) }];
}

function objectOf(value: TfValue): TfObject | null {
  return isObject(value) ? value : null;
}

/** Wraps a handler: errors come back as the response's diagnostics (the field every response has). */
function unary(handler: Handler) {
  return (call: ServerUnaryCall<Request, unknown>, callback: sendUnaryData<unknown>): void => {
    handler(call.request).then(
      (response) => callback(null, response),
      (error: unknown) => callback(null, { diagnostics: diagnosticsOf(error).map(encodeDiagnostic) }),
    );
  };
}

export function providerService(definition: ProviderDefinition, onStop: () => void): UntypedServiceImplementation {
  const resources = new Map(definition.resources.map((r) => [r.typeName, r]));
  const dataSources = new Map(definition.dataSources.map((d) => [d.typeName, d]));
  let client: AdminClient | undefined;

  const resourceOf = (name: unknown): ResourceDefinition => {
    const found = resources.get(String(name));
    if (!found) throw new DiagnosticError(`unknown resource type ${String(name)}`);
    return found;
  };
  const configured = (): AdminClient => {
    if (!client) throw new DiagnosticError("the hoopgate provider needs `endpoint` and `token`", "set them in the provider block or as HOOPGATE_ENDPOINT / HOOPGATE_TOKEN");
    return client;
  };
  const state = (block: BlockSpec, value: TfObject | null): DynamicValue => encodeDynamic(value === null ? null : normalize(block, value));
  const dynamic = (request: Request, field: string): TfObject | null => objectOf(decodeDynamic(request[field] as DynamicValue | undefined));

  const schemas = () => ({
    provider: encodeSchema(definition.schema),
    resource_schemas: Object.fromEntries(definition.resources.map((r) => [r.typeName, encodeSchema(r.schema)])),
    data_source_schemas: Object.fromEntries(definition.dataSources.map((d) => [d.typeName, encodeSchema(d.schema)])),
    server_capabilities: { get_provider_schema_optional: true },
    diagnostics: [],
  });

  return {
    GetMetadata: unary(async () => ({
      server_capabilities: { get_provider_schema_optional: true },
      resources: definition.resources.map((r) => ({ type_name: r.typeName })),
      data_sources: definition.dataSources.map((d) => ({ type_name: d.typeName })),
      diagnostics: [],
    })),
    GetProviderSchema: unary(async () => schemas()),
    ValidateProviderConfig: unary(async () => ({ diagnostics: [] })),
    ValidateResourceConfig: unary(async (request) => {
      const resource = resourceOf(request.type_name);
      const config = dynamic(request, "config");
      const problems = config === null || !resource.validate ? [] : resource.validate(normalize(resource.schema, config));
      if (problems.length > 0) throw new DiagnosticsError(problems);
      return { diagnostics: [] };
    }),
    ValidateDataResourceConfig: unary(async () => ({ diagnostics: [] })),
    ConfigureProvider: unary(async (request) => {
      const config = dynamic(request, "config") ?? {};
      const endpoint = optionalString(config, "endpoint") ?? process.env.HOOPGATE_ENDPOINT;
      const token = optionalString(config, "token") ?? process.env.HOOPGATE_TOKEN;
      const ca = optionalString(config, "ca_certificate") ?? caFromFile(process.env.HOOPGATE_CA_FILE);
      // Without both, only data sources that need no gateway (hoopgate_policy_bundle) work.
      if (endpoint !== undefined && token !== undefined) client = new AdminClient(endpoint, token, ca);
      else if (endpoint !== undefined) throw new DiagnosticError("token is required with endpoint", "the gateway's admin API needs a bearer token", ["token"]);
      return { diagnostics: [] };
    }),
    UpgradeResourceState: unary(async (request) => {
      const resource = resourceOf(request.type_name);
      const raw = request.raw_state as { json?: Uint8Array } | undefined;
      const prior = objectOf(decodeDynamic({ json: raw?.json ?? Buffer.alloc(0) }));
      return { upgraded_state: state(resource.schema, prior), diagnostics: [] };
    }),
    ReadResource: unary(async (request) => {
      const resource = resourceOf(request.type_name);
      const current = dynamic(request, "current_state");
      const next = current === null ? null : await resource.read(configured(), normalize(resource.schema, current));
      return { new_state: state(resource.schema, next), private: request.private, diagnostics: [] };
    }),
    PlanResourceChange: unary(async (request) => {
      const resource = resourceOf(request.type_name);
      const proposed = dynamic(request, "proposed_new_state");
      const config = dynamic(request, "config");
      const plan = planResource(
        resource.schema,
        dynamic(request, "prior_state"),
        proposed,
        config,
        proposed !== null && config !== null && resource.derive ? resource.derive(proposed, config) : {},
      );
      return {
        planned_state: state(resource.schema, plan.planned),
        requires_replace: plan.requiresReplace.map((name) => ({ steps: [{ attribute_name: name }] })),
        planned_private: request.prior_private,
        diagnostics: [],
      };
    }),
    ApplyResourceChange: unary(async (request) => {
      const resource = resourceOf(request.type_name);
      const prior = dynamic(request, "prior_state");
      const planned = dynamic(request, "planned_state");
      const api = configured();
      let next: TfObject | null;
      if (planned === null) {
        if (prior !== null) await resource.delete(api, normalize(resource.schema, prior));
        next = null;
      } else if (prior === null) next = await resource.create(api, normalize(resource.schema, planned));
      else next = await resource.update(api, normalize(resource.schema, planned), normalize(resource.schema, prior));
      return { new_state: state(resource.schema, next), private: Buffer.alloc(0), diagnostics: [] };
    }),
    ImportResourceState: unary(async (request) => {
      const resource = resourceOf(request.type_name);
      const id = String(request.id);
      return {
        imported_resources: [{ type_name: resource.typeName, state: state(resource.schema, resource.importState(id)), private: Buffer.alloc(0) }],
        diagnostics: [],
      };
    }),
    ReadDataSource: unary(async (request) => {
      const source = dataSources.get(String(request.type_name));
      if (!source) throw new DiagnosticError(`unknown data source ${String(request.type_name)}`);
      const config = normalize(source.schema, dynamic(request, "config") ?? {});
      return { state: state(source.schema, await source.read(config, { client })), diagnostics: [] };
    }),
    StopProvider: unary(async () => {
      onStop();
      return { Error: "" };
    }),
  };
}

/** the PEM in the file HOOPGATE_CA_FILE names, if it is set */
function caFromFile(file: string | undefined): string | undefined {
  if (file === undefined || file === "") return undefined;
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new DiagnosticError("HOOPGATE_CA_FILE cannot be read", `${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

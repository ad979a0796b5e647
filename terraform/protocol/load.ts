// The protocol's service definitions, loaded from the .proto files that sit in this folder in
// the source tree (the compiled provider finds them through the package root).

import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { join } from "node:path";
import { hoopgatePackageRoot } from "../../cdktf/package-root.js";

export interface ProtocolServices {
  provider: ServiceClientConstructor;
  controller: ServiceClientConstructor;
  health: ServiceClientConstructor;
}

function at(root: GrpcObject, dotted: string): ServiceClientConstructor {
  let node: unknown = root;
  for (const part of dotted.split(".")) node = (node as Record<string, unknown>)[part];
  if (typeof node !== "function") throw new Error(`protocol service ${dotted} is missing from the .proto files`);
  return node as ServiceClientConstructor;
}

export function loadProtocol(): ProtocolServices {
  const dir = join(hoopgatePackageRoot(import.meta.url), "terraform", "protocol");
  const definition = loadSync(["tfplugin6.proto", "plugin.proto", "health.proto"].map((f) => join(dir, f)), {
    keepCase: true,
    longs: Number,
    enums: Number,
    defaults: true,
    oneofs: true,
  });
  const root = loadPackageDefinition(definition);
  return {
    provider: at(root, "tfplugin6.Provider"),
    controller: at(root, "plugin.GRPCController"),
    health: at(root, "grpc.health.v1.Health"),
  };
}

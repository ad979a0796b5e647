// The gateway config (DESIGN.md §5 shape) generated from the constructs. Values that AWS
// assigns at apply time (bucket names, secret ARNs) are cdktf tokens here and resolve in the
// synthesized Terraform.

import type { JsonWebKey } from "node:crypto";
import type { ConnectionConfigEntry, HoopConnection } from "./connection.js";
import type { HoopIdentityProvider } from "./identity-provider.js";
import type { HoopPolicyBundle } from "./policy-bundle.js";

export interface GatewayPorts {
  readonly postgres: number;
  readonly ssh: number;
  readonly api: number;
}

export interface GatewayTlsFiles {
  readonly cert_file: string;
  readonly key_file: string;
}

export interface GatewayConfigDocument {
  listen: { postgres: string; ssh: string; api: string };
  /** `url` is the bundle object's `s3://bucket/key` (runtime/config/README.md) */
  bundle: { url: string; keys: { kid: string; jwk: JsonWebKey }[] };
  issuers: { issuer: string; audience: string[]; jwks_url: string }[];
  connections: Record<string, ConnectionConfigEntry>;
  store?: string;
  /** the API on 0.0.0.0 is served over HTTPS with it (a non-loopback API without tls is a config error) */
  tls: GatewayTlsFiles;
}

export interface GatewayConfigInputs {
  ports: GatewayPorts;
  bundle: HoopPolicyBundle;
  identityProviders: readonly HoopIdentityProvider[];
  connections: readonly HoopConnection[];
  storeUrl?: string;
  tls: GatewayTlsFiles;
}

export function gatewayConfig(inputs: GatewayConfigInputs): GatewayConfigDocument {
  const listen = (port: number) => `0.0.0.0:${port}`;
  const config: GatewayConfigDocument = {
    listen: { postgres: listen(inputs.ports.postgres), ssh: listen(inputs.ports.ssh), api: listen(inputs.ports.api) },
    bundle: { url: inputs.bundle.s3Url, keys: inputs.bundle.verificationKeys.map((k) => ({ kid: k.kid, jwk: k.jwk })) },
    issuers: inputs.identityProviders.map((p) => ({ issuer: p.issuer, audience: p.audience, jwks_url: p.jwksUrl })),
    connections: Object.fromEntries(inputs.connections.map((c) => [c.name, c.configEntry()])),
    tls: inputs.tls,
  };
  if (inputs.storeUrl !== undefined) config.store = inputs.storeUrl;
  return config;
}

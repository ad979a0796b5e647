// A local OIDC token issuer for `hoopgate demo` and tests: publishes its ES256 key at
// /.well-known/jwks.json (and a discovery document) over plain HTTP on loopback, and signs
// tokens for any subject. Never a production identity provider.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { importJWK, SignJWT } from "jose";
import { generateDevKey, type DevKey } from "./dev-key.js";

export interface IssueOptions {
  sub: string;
  /** extra claims; `iss`, `sub`, `aud`, `iat` and `exp` are always the issuer's own */
  claims?: Record<string, unknown>;
  /** seconds, or a duration such as "15m"; default 15 minutes */
  ttl?: number | string;
}

export interface DevIssuerOptions {
  /** default 0: a free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** default: a fresh key (see loadDevKey to reuse a persisted one) */
  key?: DevKey;
  /** `aud` of the issued tokens; default "hoopgate" */
  audience?: string;
}

export interface DevIssuer {
  /** `http://host:port`, the tokens' `iss` */
  issuer: string;
  jwksUrl: string;
  audience: string;
  key: DevKey;
  issue(options: IssueOptions): Promise<string>;
  close(): Promise<void>;
}

export interface SignOptions extends IssueOptions {
  issuer: string;
  audience: string | string[];
}

/** Signs a token with a dev key; what `hoopgate token issue` calls with the persisted key. */
export async function signDevToken(key: DevKey, options: SignOptions): Promise<string> {
  const ttl = options.ttl ?? "15m";
  return new SignJWT({ ...options.claims })
    .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "JWT" })
    .setIssuer(options.issuer)
    .setSubject(options.sub)
    .setAudience(options.audience)
    .setIssuedAt()
    .setExpirationTime(typeof ttl === "number" ? Math.floor(Date.now() / 1000) + ttl : ttl)
    .sign(await importJWK(key.privateJwk, "ES256"));
}

export async function startDevIssuer(options: DevIssuerOptions = {}): Promise<DevIssuer> {
  const key = options.key ?? (await generateDevKey());
  const host = options.host ?? "127.0.0.1";
  const audience = options.audience ?? "hoopgate";
  let issuer = "";
  const server = createServer((request, response) => {
    const documents: Record<string, unknown> = {
      "/.well-known/openid-configuration": {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        id_token_signing_alg_values_supported: ["ES256"],
        subject_types_supported: ["public"],
        response_types_supported: ["id_token"],
      },
      "/.well-known/jwks.json": { keys: [key.publicJwk] },
    };
    const body = request.method === "GET" ? documents[new URL(request.url ?? "/", issuer).pathname] : undefined;
    if (body === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  const { port } = await listen(server, options.port ?? 0, host);
  issuer = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    issuer,
    jwksUrl: `${issuer}/.well-known/jwks.json`,
    audience,
    key,
    issue: (o) => signDevToken(key, { ...o, issuer, audience }),
    close: () =>
      new Promise((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

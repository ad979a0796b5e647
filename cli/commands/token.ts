import { loadDevIssuerIdentity } from "../../runtime/demo/dev-identity.js";
import { loadDevKey, signDevToken } from "../../runtime/identity/index.js";
import { jsonObjectFlag, parse, UsageError } from "../args.js";

export const summary = "issue --sub S [--claims JSON] [--ttl 15m]: a dev token from the gateway's own issuer key";

const TTL = /^[1-9][0-9]*(s|m|h|d)$/;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    sub: { type: "string" },
    claims: { type: "string" },
    ttl: { type: "string" },
    "key-dir": { type: "string" },
    issuer: { type: "string" },
    aud: { type: "string" },
  });
  if (positionals[0] !== "issue" || positionals.length > 1) throw new UsageError("usage: hoopgate token issue --sub S [--claims JSON] [--ttl 15m] [--key-dir DIR] [--issuer URL] [--aud AUD]");
  if (values.sub === undefined || values.sub === "") throw new UsageError("--sub is required");
  const ttl = values.ttl ?? "15m";
  if (!TTL.test(ttl)) throw new UsageError(`--ttl must be a duration such as 30s, 15m, 2h or 7d, got "${ttl}"`);
  const claims = values.claims === undefined ? {} : jsonObjectFlag("--claims", values.claims);
  const keyDir = values["key-dir"] ?? ".hoopgate";
  const known = await loadDevIssuerIdentity(keyDir);
  const issuer = values.issuer ?? known?.issuer;
  const audience = values.aud ?? known?.audience ?? "hoopgate";
  if (issuer === undefined) {
    throw new UsageError(`--issuer is required: ${keyDir} holds no dev issuer (start \`hoopgate demo\` there, or pass --issuer)`);
  }
  const key = await loadDevKey(keyDir);
  process.stdout.write(`${await signDevToken(key, { sub: values.sub, claims, ttl, issuer, audience })}\n`);
  return 0;
}

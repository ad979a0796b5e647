// Who may call the admin API: the bootstrap token from the config (compared in constant
// time), or a token from the configured trusted issuer whose `groups` claim holds the admin
// group. Anything else is refused; with no `admin` config, everyone is.

import { createHash, timingSafeEqual } from "node:crypto";
import type { AdminAuthConfig } from "../../config/types.js";
import type { TokenVerifier } from "../../identity/index.js";

export interface AdminActor {
  issuer: string;
  subject: string;
}

export class AdminAuthError extends Error {
  override name = "AdminAuthError";
}

const BOOTSTRAP_ACTOR: AdminActor = { issuer: "hoopgate", subject: "bootstrap-admin-token" };

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

export function createAdminAuthenticator(config: AdminAuthConfig | undefined, verifier: () => TokenVerifier) {
  const bootstrap = config?.token === undefined ? undefined : digest(config.token);
  return async function authenticate(authorization: string | undefined): Promise<AdminActor> {
    if (config === undefined) throw new AdminAuthError("the admin API is disabled: set `admin` in the gateway config");
    const match = /^Bearer ([^\s]+)$/i.exec(authorization ?? "");
    if (!match?.[1]) throw new AdminAuthError("missing bearer token");
    const token = match[1];
    // Equal-length digests: the comparison time says nothing about the token.
    if (bootstrap !== undefined && timingSafeEqual(digest(token), bootstrap)) return BOOTSTRAP_ACTOR;
    if (config.group === undefined) throw new AdminAuthError("invalid admin token");
    let identity;
    try {
      identity = await verifier().verify(token);
    } catch (error) {
      throw new AdminAuthError(`invalid admin token: ${(error as Error).message}`);
    }
    const groups = identity.claims.groups;
    const inGroup = Array.isArray(groups) ? groups.includes(config.group.name) : groups === config.group.name;
    if (identity.issuer !== config.group.issuer || !inGroup) {
      throw new AdminAuthError(`${identity.subject} is not in the admin group "${config.group.name}" of ${config.group.issuer}`);
    }
    return { issuer: identity.issuer, subject: identity.subject };
  };
}

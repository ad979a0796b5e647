// The settings the proxies read on every new session, kept current with the admin state:
// connection targets and the token verifier (rebuilt only when the issuers change, so the
// JWKS caches survive connection edits).

import { createTokenVerifier, type TokenVerifier } from "../../identity/index.js";
import type { PgTarget } from "../../postgres/context.js";
import { postgresTargets } from "../../gateway/targets.js";
import type { AdminState } from "./state.js";

export interface LiveSettings {
  target(connection: string): PgTarget | undefined;
  verifier(): TokenVerifier;
  close(): void;
}

export function createLiveSettings(state: AdminState): LiveSettings {
  let targets = postgresTargets(state.connections());
  let issuersKey = JSON.stringify(state.issuers());
  let verifier = createTokenVerifier(state.issuers());
  const unsubscribe = state.onChange(() => {
    targets = postgresTargets(state.connections());
    const key = JSON.stringify(state.issuers());
    if (key !== issuersKey) {
      verifier = createTokenVerifier(state.issuers());
      issuersKey = key;
    }
  });
  return { target: (name) => targets.get(name), verifier: () => verifier, close: unsubscribe };
}

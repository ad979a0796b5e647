// The settings the proxies read on every new session, kept current with the admin state:
// connection targets and the token verifier (rebuilt only when the issuers change, so the
// JWKS caches survive connection edits). Listeners hear of a change once both are rebuilt, so
// what they read is what new sessions get (open sessions re-check themselves then).

import { createTokenVerifier, type TokenVerifier } from "../../identity/index.js";
import type { PgTarget } from "../../postgres/context.js";
import { postgresTargets } from "../../gateway/targets.js";
import type { AdminState } from "./state.js";

export interface LiveSettings {
  target(connection: string): PgTarget | undefined;
  verifier(): TokenVerifier;
  /** called after each change of the admin state, once the targets and the verifier are current; returns the unsubscribe */
  onChange(listener: () => void): () => void;
  close(): void;
}

export function createLiveSettings(state: AdminState): LiveSettings {
  let targets = postgresTargets(state.connections());
  let issuersKey = JSON.stringify(state.issuers());
  let verifier = createTokenVerifier(state.issuers());
  const listeners = new Set<() => void>();
  const unsubscribe = state.onChange(() => {
    targets = postgresTargets(state.connections());
    const key = JSON.stringify(state.issuers());
    if (key !== issuersKey) {
      verifier = createTokenVerifier(state.issuers());
      issuersKey = key;
    }
    // every open session is checked even if one listener throws
    let failure: unknown;
    for (const listener of listeners) {
      try {
        listener();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  });
  return {
    target: (name) => targets.get(name),
    verifier: () => verifier,
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close() {
      unsubscribe();
      listeners.clear();
    },
  };
}

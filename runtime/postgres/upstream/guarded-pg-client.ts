// node-postgres' client held to the login rules of the sessions' own upstream connections
// (server-connect.ts): the catalog's pool carries the target's password too, and node-postgres
// sends a cleartext password or an md5 hash to whoever asks, and takes AuthenticationOk in the
// middle of SCRAM without the server's signature.

import type { EventEmitter } from "node:events";
import pg from "pg";
import type { PgTarget, UpstreamAuthMethod } from "../context.js";
import { refusedAuthMethod } from "./server-connect.js";

/** the parts of node-postgres' Client (lib/client.js) the guard wraps */
interface ClientInternals {
  connection: EventEmitter;
  /** set while a SCRAM exchange runs; null once the server's signature verified */
  saslSession: unknown;
  _handleAuthCleartextPassword(message: unknown): void;
  _handleAuthMD5Password(message: unknown): void;
  _handleAuthSASL(message: unknown): void;
}

/** A pg.Client class for `Pool({ Client })` that logs in to `target` only as the gateway allows. */
export function guardedClient(target: PgTarget): typeof pg.Client {
  const Base = pg.Client as unknown as new (config?: pg.ClientConfig) => pg.Client & ClientInternals;
  class GuardedClient extends Base {
    private asked: UpstreamAuthMethod | null = null;

    constructor(config?: pg.ClientConfig) {
      super(config);
      this.connection.on("authenticationOk", () => {
        if (this.saslSession !== null && this.saslSession !== undefined) {
          this.refuse("upstream ended SCRAM authentication without proving it knows the password (no server signature)");
        } else if (this.asked === null) {
          this.check("none");
        }
      });
    }

    override _handleAuthCleartextPassword(message: unknown): void {
      if (this.check("password")) super._handleAuthCleartextPassword(message);
    }

    override _handleAuthMD5Password(message: unknown): void {
      if (this.check("md5")) super._handleAuthMD5Password(message);
    }

    override _handleAuthSASL(message: unknown): void {
      if (this.check("scram-sha-256")) super._handleAuthSASL(message);
    }

    private check(method: UpstreamAuthMethod): boolean {
      this.asked = method;
      const refused = refusedAuthMethod(target, method);
      if (refused !== undefined) this.refuse(refused);
      return refused === undefined;
    }

    private refuse(message: string): void {
      this.connection.emit("error", new Error(message));
    }
  }
  return GuardedClient as unknown as typeof pg.Client;
}

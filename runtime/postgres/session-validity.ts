// How long a session may go on: as long as its token would still be accepted, as long as the
// policy in force still lets its identity use its connection, and as long as that connection
// still leads where the session is connected. The session asks for a watch when it starts and
// stops it when it ends; `onInvalid` gets the FATAL to end it with.
//
// - Token: at `identity.expiresAt` (the token's `exp` plus the issuer's clock skew: the instant a
//   new login with the same token would be refused) the session ends with FATAL 28000, whatever
//   it is doing — a statement running then is canceled upstream rather than left to finish
//   without authority (the session code sends the cancel).
// - Policy: on a bundle change, and once when the watch starts (a bundle may land between the
//   login and the session's start), the gateway asks the policy in force whether this identity
//   may still use this connection; if not, the session ends the same way. A session that is still
//   allowed keeps the rules and masks it opened with; new sessions get the new ones.
// - Connections and issuers (the admin API): when they change, and once when the watch starts
//   (a change may land between the login and the session's start), the session ends the same
//   way if its connection is gone or leads to another place (host, port, database, user or
//   upstream TLS: target-identity.ts; a new password alone does not end it), or if the issuers
//   in force no longer accept its token. The raw token is not kept, so "still accepted" is what
//   can be told without it (TokenVerifier.distrust): its issuer is still configured with the key
//   source and settings that verified it, and still accepts its audience.

import type { Identity } from "../facts/types.js";
import type { PgTarget, ProxyContext } from "./context.js";
import type { ErrorFields } from "./messages.js";
import { targetPlace } from "./upstream/target-identity.js";

/** setTimeout's longest delay (about 24.8 days); longer waits are taken in steps */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ValidityWatch {
  stop(): void;
}

/** The session being watched: who, on which connection, connected to which target. */
export interface WatchedSession {
  identity: Identity;
  connection: string;
  target: PgTarget;
}

export type ValidityContext = Pick<ProxyContext, "openSession" | "policyChanges" | "accessChanges" | "distrust"> & {
  target?: ProxyContext["target"];
};

export function watchSessionValidity(
  ctx: ValidityContext,
  session: WatchedSession,
  onInvalid: (fields: ErrorFields) => void,
  now: () => number = Date.now,
): ValidityWatch {
  const { identity, connection } = session;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let unsubscribePolicy = (): void => undefined;
  let unsubscribeAccess = (): void => undefined;
  const stop = (): void => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    unsubscribePolicy();
    unsubscribeAccess();
  };
  const invalid = (fields: ErrorFields): void => {
    if (stopped) return;
    stop();
    onInvalid(fields);
  };
  const ended = (why: string): void => invalid({ severity: "FATAL", code: "28000", message: `session ended: ${why}` });

  const expiresAt = identity.expiresAt?.getTime();
  const expired = (): void => invalid({
    severity: "FATAL",
    code: "28000",
    message: `session ended: the token expired at ${new Date(expiresAt!).toISOString()}`,
    hint: "connect again with a fresh token",
  });
  const arm = (): void => {
    const left = expiresAt! - now();
    if (left <= 0) return expired();
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    timer.unref();
  };

  const policyCheck = (): void => {
    const again = ctx.openSession(identity, connection);
    // a refusal for every connection (the audit log failing) is the gateway's state, not a verdict on this session
    if (again.ok || again.gatewayWide === true) return;
    ended(`the policy in force no longer lets this identity use "${connection}"`);
  };

  const place = targetPlace(session.target);
  const accessCheck = (): void => {
    if (ctx.target !== undefined) {
      const current = ctx.target(connection);
      if (current === undefined) return ended(`the connection "${connection}" was removed`);
      if (targetPlace(current) !== place) return ended(`the connection "${connection}" now leads to another target`);
    }
    const distrusted = ctx.distrust?.(identity);
    if (distrusted !== undefined) ended(`the token is no longer accepted: ${distrusted}`);
  };

  if (ctx.policyChanges !== undefined) {
    unsubscribePolicy = ctx.policyChanges(policyCheck);
    // a bundle may have landed between the login and now
    policyCheck();
  }
  if (ctx.accessChanges !== undefined) {
    unsubscribeAccess = ctx.accessChanges(accessCheck);
    accessCheck();
  }
  if (expiresAt !== undefined && !stopped) arm();
  return { stop };
}

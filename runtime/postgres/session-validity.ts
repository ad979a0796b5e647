// How long a session may go on: as long as its token would still be accepted, and as long as the
// policy in force still lets its identity use its connection. The session asks for a watch when
// it starts and stops it when it ends; `onInvalid` gets the FATAL to end it with.
//
// - Token: at `identity.expiresAt` (the token's `exp` plus the issuer's clock skew: the instant a
//   new login with the same token would be refused) the session ends with FATAL 28000, whatever
//   it is doing — a statement running then is canceled upstream rather than left to finish
//   without authority (the session code sends the cancel).
// - Policy: on a bundle change the gateway asks the new policy whether this identity may still
//   use this connection; if not, the session ends the same way. A session that is still allowed
//   keeps the rules and masks it opened with; new sessions get the new ones.

import type { Identity } from "../facts/types.js";
import type { ProxyContext } from "./context.js";
import type { ErrorFields } from "./messages.js";

/** setTimeout's longest delay (about 24.8 days); longer waits are taken in steps */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ValidityWatch {
  stop(): void;
}

export function watchSessionValidity(
  ctx: Pick<ProxyContext, "openSession" | "policyChanges">,
  identity: Identity,
  connection: string,
  onInvalid: (fields: ErrorFields) => void,
  now: () => number = Date.now,
): ValidityWatch {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stop = (): void => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    unsubscribe();
  };
  const invalid = (fields: ErrorFields): void => {
    if (stopped) return;
    stop();
    onInvalid(fields);
  };

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

  const unsubscribe = ctx.policyChanges?.(() => {
    const again = ctx.openSession(identity, connection);
    // a refusal for every connection (the audit log failing) is the gateway's state, not a verdict on this session
    if (again.ok || again.gatewayWide === true) return;
    invalid({ severity: "FATAL", code: "28000", message: `session ended: the policy in force no longer lets this identity use "${connection}"` });
  }) ?? (() => undefined);
  if (expiresAt !== undefined) arm();
  return { stop };
}

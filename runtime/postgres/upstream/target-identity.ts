// What makes two PgTargets the same target, in two strengths:
//
// - `targetPlace`: where the target leads — host, port, database, user — and the TLS that
//   protects the way there (mode, CA, client certificate and key). An open session is bound to
//   it: when its connection's place changes, the session is on a database its connection no
//   longer names (session-validity.ts). The password and `require_auth` matter at login only.
// - `targetKey`: the place and the credentials, for what logs in again on its own (the catalog's
//   pool, server.ts): a pool made with an old password must not serve a target whose password
//   changed.
//
// Both are sha256 digests, memoized per target object (the gateway's targets are rebuilt only
// when the connections change), so a CA bundle is hashed once per change, not once per session.

import { createHash } from "node:crypto";
import type { PgTarget } from "../context.js";

const places = new WeakMap<PgTarget, string>();
const keys = new WeakMap<PgTarget, string>();

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

export function targetPlace(target: PgTarget): string {
  let place = places.get(target);
  if (place === undefined) {
    const tls = target.tls;
    // absent TLS is plain TCP, as mode `disable` is; `setting` only names where it was configured
    place = sha256(JSON.stringify([
      target.host, target.port, target.database, target.user,
      tls?.mode ?? "disable", tls?.ca ?? null, tls?.cert ?? null, tls?.privateKey ?? null,
    ]));
    places.set(target, place);
  }
  return place;
}

export function targetKey(target: PgTarget): string {
  let key = keys.get(target);
  if (key === undefined) {
    key = sha256(JSON.stringify([targetPlace(target), target.password ?? null, target.requireAuth ?? null]));
    keys.set(target, key);
  }
  return key;
}

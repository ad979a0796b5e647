// Bearer tokens on the API: the same OIDC tokens as everywhere, verified by the gateway's token
// verifier. Reading approvals and sessions (statements, masked results) is for members of an
// approver group of the bundle in force; deciding is checked per request by the approvals service.

import type { FastifyReply, FastifyRequest } from "fastify";
import type { Engine } from "../engine/index.js";
import type { Identity } from "../facts/types.js";

export interface ApiAuth {
  verifyToken(token: string): Promise<Identity>;
  engine(): Engine | undefined;
}

export function bearer(request: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "");
  return match?.[1];
}

export function unauthorized(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(401).header("www-authenticate", "Bearer").send({ error: "unauthorized", message });
}

/** a preHandler that lets approvers read; anything else gets 401/403/503 */
export function requireReader(auth: ApiAuth) {
  // a hook that answers must return the reply, or fastify would go on to the handler
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const token = bearer(request);
    if (token === undefined) return unauthorized(reply, "missing bearer token");
    let identity: Identity;
    try {
      identity = await auth.verifyToken(token);
    } catch (err) {
      return unauthorized(reply, `token refused: ${(err as Error).message}`);
    }
    const engine = auth.engine();
    if (engine === undefined) return reply.code(503).send({ error: "unavailable", message: "no policy bundle is loaded" });
    const approverGroups = new Set(engine.bundle.policies.flatMap((p) => p.rules.flatMap((r) => r.approvers ?? [])));
    if (!engine.groupsOf(identity).some((g) => approverGroups.has(g))) {
      return reply.code(403).send({ error: "forbidden", message: `${identity.subject} is in no approver group` });
    }
    return undefined;
  };
}

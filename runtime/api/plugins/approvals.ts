// /api/approvals: list and show (approvers), approve and deny (the approver's own bearer token;
// the approvals service checks groups and the requester rule and audits every decision).

import type { FastifyInstance } from "fastify";
import { ApprovalError, type ApprovalService, type ApprovalState } from "../../approvals/index.js";
import { bearer, requireReader, unauthorized, type ApiAuth } from "../auth.js";

const STATES = ["pending", "approved", "denied", "expired", "consumed"];
const idParams = { type: "object", required: ["id"], properties: { id: { type: "string", pattern: "^apr_[0-9a-f]{32}$" } } } as const;

export async function approvalsApi(app: FastifyInstance, options: { approvals: ApprovalService; auth: ApiAuth }): Promise<void> {
  const { approvals } = options;
  const reader = requireReader(options.auth);

  app.get<{ Querystring: { state?: ApprovalState; limit?: number } }>("/api/approvals", {
    preHandler: reader,
    schema: {
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: { state: { type: "string", enum: STATES }, limit: { type: "integer", minimum: 1, maximum: 1000 } },
      },
    },
  }, async (request) => ({ approvals: await approvals.list(request.query) }));

  app.get<{ Params: { id: string } }>("/api/approvals/:id", { preHandler: reader, schema: { params: idParams } }, async (request, reply) => {
    const found = await approvals.get(request.params.id);
    if (found === undefined) return reply.code(404).send({ error: "not_found", message: `no approval request ${request.params.id}` });
    return found;
  });

  for (const verb of ["approve", "deny"] as const) {
    app.post<{ Params: { id: string }; Body: { note?: string } | undefined }>(`/api/approvals/:id/${verb}`, {
      schema: {
        params: idParams,
        body: { type: ["object", "null"], additionalProperties: false, properties: { note: { type: "string", maxLength: 1000 } } },
      },
    }, async (request, reply) => {
      const token = bearer(request);
      if (token === undefined) return unauthorized(reply, "missing bearer token: approvers act with their own token");
      try {
        const note = request.body?.note;
        return await approvals.decide(request.params.id, { token, approve: verb === "approve", ...(note !== undefined && { note }) });
      } catch (err) {
        if (!(err instanceof ApprovalError)) throw err;
        if (err.status === 401) return unauthorized(reply, err.message);
        return reply.code(err.status).send({ error: errorName(err.status), message: err.message });
      }
    });
  }
}

function errorName(status: number): string {
  return ({ 403: "forbidden", 404: "not_found", 409: "conflict", 503: "unavailable" } as Record<number, string>)[status] ?? "error";
}

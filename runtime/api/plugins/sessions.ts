// /api/sessions: recorded sessions, one with its chained entries, and its replay transcript.

import type { FastifyInstance } from "fastify";
import { getSession, listSessions, replayTranscript } from "../../audit/index.js";
import type { Store } from "../../store/types.js";
import { requireReader, type ApiAuth } from "../auth.js";

const idParams = { type: "object", required: ["id"], properties: { id: { type: "string", minLength: 1, maxLength: 100 } } } as const;

export async function sessionsApi(app: FastifyInstance, options: { store: Store; auth: ApiAuth }): Promise<void> {
  const { store } = options;
  const reader = requireReader(options.auth);

  app.get<{ Querystring: { limit?: number; before?: string } }>("/api/sessions", {
    preHandler: reader,
    schema: {
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: { limit: { type: "integer", minimum: 1, maximum: 1000 }, before: { type: "string", format: "date-time" } },
      },
    },
  }, async (request) => ({ sessions: await listSessions(store, request.query) }));

  app.get<{ Params: { id: string }; Querystring: { format?: "json" | "text" } }>("/api/sessions/:id", {
    preHandler: reader,
    schema: {
      params: idParams,
      querystring: { type: "object", additionalProperties: false, properties: { format: { type: "string", enum: ["json", "text"] } } },
    },
  }, async (request, reply) => {
    const found = await getSession(store, request.params.id);
    if (found === undefined) return reply.code(404).send({ error: "not_found", message: `no session ${request.params.id}` });
    if (request.query.format === "text") return reply.type("text/plain; charset=utf-8").send(replayTranscript(found.session, found.entries));
    return found;
  });
}

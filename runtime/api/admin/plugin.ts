// The admin API as a fastify plugin, mounted under `/api/admin`: the bundle, connections,
// token issuers and approval webhooks that the Terraform provider manages. Every request is
// authenticated; every change is validated, audited, persisted and applied live.

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { MAX_BUNDLE_BYTES } from "../../bundle/fetch.js";
import type { AdminActor } from "./auth.js";
import { AdminAuthError } from "./auth.js";
import type { AdminAudit } from "./audit.js";
import type { BundleDeployer } from "./bundle-deploy.js";
import { bodyProblem, type BodyName } from "./schemas.js";
import { AdminError, type AdminState } from "./state.js";
import type { AdminConnection, AdminIssuer, AdminWebhook } from "./document.js";

export interface AdminApiOptions {
  state: AdminState;
  bundle: BundleDeployer;
  audit: AdminAudit;
  authenticate(authorization: string | undefined): Promise<AdminActor>;
}

declare module "fastify" {
  interface FastifyRequest {
    adminActor?: AdminActor;
  }
}

type Params = { name?: string; issuer?: string; id?: string };

function body<T>(name: BodyName, request: FastifyRequest): T {
  const problem = bodyProblem(name, request.body);
  if (problem !== null) throw new AdminError(400, problem);
  return request.body as T;
}

export async function adminApi(app: FastifyInstance, options: AdminApiOptions): Promise<void> {
  const { state, bundle, audit } = options;
  const action = (request: FastifyRequest): string => `${request.method} ${request.url.split("?")[0]}`;
  const change = <T>(request: FastifyRequest, run: () => Promise<T>): Promise<T> => audit.change(request.adminActor!, action(request), run);
  const found = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new AdminError(404, `no ${what}`);
    return value;
  };

  app.addHook("onRequest", async (request, reply) => {
    try {
      request.adminActor = await options.authenticate(request.headers.authorization);
    } catch (error) {
      if (!(error instanceof AdminAuthError)) throw error;
      if (request.method !== "GET") audit.refused(undefined, action(request), error.message);
      return reply.code(401).header("www-authenticate", "Bearer").send({ error: "unauthorized", message: error.message });
    }
  });

  app.setErrorHandler((error: Error & { statusCode?: number }, request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== "GET") audit.refused(request.adminActor, action(request), error.message);
    if (error instanceof AdminError) {
      return reply.code(error.status).send({ error: error.status === 404 ? "not_found" : error.status === 409 ? "conflict" : "bad_request", message: error.message });
    }
    if (error.statusCode !== undefined && error.statusCode < 500) return reply.code(error.statusCode).send({ error: "bad_request", message: error.message });
    request.log.error({ err: error }, "admin API request failed");
    return reply.code(500).send({ error: "internal", message: error.message });
  });

  app.get("/bundle", async () => bundle.status());
  // bundles outgrow the API's default body limit
  app.put("/bundle", { bodyLimit: MAX_BUNDLE_BYTES }, async (request) => {
    const { bundle: document } = body<{ bundle: string }>("bundle", request);
    return change(request, () => bundle.deploy(document));
  });

  app.get("/connections", async () => state.listConnections());
  app.get<{ Params: Params }>("/connections/:name", async (request) => found(state.connection(request.params.name!), `connection "${request.params.name}"`));
  app.put<{ Params: Params }>("/connections/:name", async (request) => {
    const entry = body<AdminConnection>("connection", request);
    return change(request, () => state.putConnection(request.params.name!, entry));
  });
  app.delete<{ Params: Params }>("/connections/:name", async (request, reply) => {
    await change(request, () => state.deleteConnection(request.params.name!));
    return reply.code(204).send();
  });

  app.get("/issuers", async () => state.listIssuers());
  app.get<{ Params: Params }>("/issuers/:issuer", async (request) => found(state.issuer(request.params.issuer!), `issuer "${request.params.issuer}"`));
  app.put<{ Params: Params }>("/issuers/:issuer", async (request) => {
    const entry = body<AdminIssuer>("issuer", request);
    return change(request, () => state.putIssuer(request.params.issuer!, entry));
  });
  app.delete<{ Params: Params }>("/issuers/:issuer", async (request, reply) => {
    await change(request, () => state.deleteIssuer(request.params.issuer!));
    return reply.code(204).send();
  });

  app.get("/webhooks", async () => state.webhooks());
  app.post("/webhooks", async (request, reply) => {
    const entry = body<AdminWebhook>("webhook", request);
    return reply.code(201).send(await change(request, () => state.putWebhook(undefined, entry)));
  });
  app.get<{ Params: Params }>("/webhooks/:id", async (request) => found(state.webhook(request.params.id!), `webhook "${request.params.id}"`));
  app.put<{ Params: Params }>("/webhooks/:id", async (request) => {
    const entry = body<AdminWebhook>("webhook", request);
    return change(request, () => state.putWebhook(request.params.id!, entry));
  });
  app.delete<{ Params: Params }>("/webhooks/:id", async (request, reply) => {
    await change(request, () => state.deleteWebhook(request.params.id!));
    return reply.code(204).send();
  });
}

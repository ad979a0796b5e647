// The approval webhook against a real HTTP receiver: Slack-compatible JSON, retried with
// backoff after a failure, and notify() never waits on the network.

import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookNotifier, type ApprovalRequest } from "../runtime/approvals/index.js";
import { createLogger } from "../runtime/log.js";

const request: ApprovalRequest = {
  id: "apr_0123456789abcdef0123456789abcdef",
  state: "pending",
  createdAt: "2026-01-01T00:00:00.000Z",
  expiresAt: "2026-01-01T00:15:00.000Z",
  requester: { issuer: "https://token.actions.githubusercontent.com", subject: "repo:acme/api:ref:refs/heads/main" },
  connection: "orders-db",
  session: "s1",
  statement: "DELETE FROM users",
  statementSha256: "0".repeat(64),
  reason: "approval required by ci-on-prod/review#1",
  rules: [{ id: "ci-on-prod/review#1", approvers: ["dba"] }],
  decidedAt: null,
  decidedBy: null,
  note: null,
};

const received: { status: number; body: Record<string, unknown> }[] = [];
let failNext = 1;
const server = createServer(async (req: IncomingMessage, res) => {
  let text = "";
  for await (const chunk of req) text += String(chunk);
  const status = failNext-- > 0 ? 500 : 200;
  received.push({ status, body: JSON.parse(text) as Record<string, unknown> });
  res.writeHead(status).end();
});
let url = "";

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("approval webhook", () => {
  it("posts Slack-compatible JSON and retries after a failure", async () => {
    const notifier = new WebhookNotifier({
      urls: () => [url], logger: createLogger({ level: "silent" }), approvalUrl: (id) => `https://gw.example/console#approval=${id}`, backoffMs: 50,
    });
    const started = performance.now();
    notifier.notify(request);
    expect(performance.now() - started).toBeLessThan(5);
    await expect.poll(() => received.length, { timeout: 3000 }).toBe(2);
    expect(received.map((r) => r.status)).toEqual([500, 200]);
    const body = received[1]!.body;
    expect(body.text).toBe(
      "hoopgate: approval needed on orders-db for repo:acme/api:ref:refs/heads/main (https://token.actions.githubusercontent.com): approval required by ci-on-prod/review#1 — https://gw.example/console#approval=apr_0123456789abcdef0123456789abcdef",
    );
    expect(body.hoopgate).toMatchObject({ id: request.id, statement: "DELETE FROM users", rules: request.rules });
    expect(Array.isArray(body.blocks)).toBe(true);
    notifier.close();
  });

  it("gives up after the configured attempts without blocking anyone", async () => {
    const logs: string[] = [];
    const logger = createLogger({ level: "warn", destination: { write: (line: string) => void logs.push(line) } });
    const notifier = new WebhookNotifier({ urls: () => ["http://127.0.0.1:1/unreachable"], logger, approvalUrl: (id) => id, backoffMs: 10, attempts: 2 });
    const started = performance.now();
    notifier.notify(request);
    expect(performance.now() - started).toBeLessThan(5);
    await expect.poll(() => logs.some((l) => l.includes("webhook gave up after 2 attempts")), { timeout: 3000 }).toBe(true);
    expect(logs.filter((l) => l.includes("webhook failed"))).toHaveLength(1);
    notifier.close();
  });
});

// Slack-compatible notifications of new approval requests: `{"text": …}` plus blocks and the
// structured request, POSTed to each configured URL from a background queue with retries and
// exponential backoff. notify() only enqueues: the data path never waits on a webhook.

import type { Logger } from "../log.js";
import type { ApprovalRequest } from "./types.js";

export interface WebhookOptions {
  /** the current webhook URLs (the config's and the admin API's) */
  urls(): string[];
  logger: Logger;
  approvalUrl(id: string): string;
  /** default 5 */
  attempts?: number;
  /** first retry delay, doubled each time; default 1 s */
  backoffMs?: number;
  /** per attempt; default 5 s */
  timeoutMs?: number;
  /** deliveries waiting beyond this are dropped (oldest first) with a warning; default 1000 */
  maxQueue?: number;
}

interface Delivery {
  url: string;
  body: string;
  id: string;
  attempt: number;
}

export class WebhookNotifier {
  private readonly queue: Delivery[] = [];
  private running = false;
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: WebhookOptions) {}

  notify(request: ApprovalRequest): void {
    if (this.closed) return;
    const body = JSON.stringify(slackPayload(request, this.options.approvalUrl(request.id)));
    for (const url of this.options.urls()) this.enqueue({ url, body, id: request.id, attempt: 1 });
  }

  /** stops retrying; deliveries in flight finish on their own */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
  }

  private enqueue(delivery: Delivery): void {
    const max = this.options.maxQueue ?? 1000;
    if (this.queue.length >= max) {
      const dropped = this.queue.shift()!;
      this.options.logger.warn({ approval: dropped.id, url: dropped.url }, "webhook queue full: oldest notification dropped");
    }
    this.queue.push(delivery);
    if (this.running) return;
    this.running = true;
    // on the next turn: even fetch's first-use setup stays off the caller's path
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      const delivery = this.queue.shift()!;
      const failure = await this.post(delivery);
      if (failure === undefined) continue;
      const attempts = this.options.attempts ?? 5;
      if (delivery.attempt >= attempts) {
        this.options.logger.error({ approval: delivery.id, url: delivery.url }, `webhook gave up after ${attempts} attempts: ${failure}`);
        continue;
      }
      const delay = (this.options.backoffMs ?? 1000) * 2 ** (delivery.attempt - 1);
      this.options.logger.warn({ approval: delivery.id, url: delivery.url, retryInMs: delay }, `webhook failed: ${failure}`);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.enqueue({ ...delivery, attempt: delivery.attempt + 1 });
      }, delay);
      timer.unref();
      this.timers.add(timer);
    }
    this.running = false;
  }

  /** undefined on success, else why it failed */
  private async post(delivery: Delivery): Promise<string | undefined> {
    try {
      const response = await fetch(delivery.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: delivery.body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
      await response.body?.cancel();
      return response.ok ? undefined : `HTTP ${response.status}`;
    } catch (err) {
      return (err as Error).message;
    }
  }
}

export function slackPayload(request: ApprovalRequest, url: string): Record<string, unknown> {
  const who = `${request.requester.subject} (${request.requester.issuer})`;
  const rules = request.rules.map((r) => `${r.id} → ${r.approvers.join(" or ")}`).join("; ");
  const statement = request.statement.length > 2000 ? `${request.statement.slice(0, 2000)}…` : request.statement;
  return {
    text: `hoopgate: approval needed on ${request.connection} for ${who}: ${request.reason} — ${url}`,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*Approval needed* on \`${request.connection}\`\n\`\`\`${statement.replaceAll("```", "'''")}\`\`\`` } },
      {
        type: "section",
        fields: [
          { type: "mrkdwn", text: `*Requester*\n${who}` },
          { type: "mrkdwn", text: `*Rules*\n${rules}` },
          { type: "mrkdwn", text: `*Expires*\n${request.expiresAt}` },
          { type: "mrkdwn", text: `*Request*\n<${url}|${request.id}>` },
        ],
      },
    ],
    hoopgate: {
      id: request.id,
      url,
      connection: request.connection,
      requester: request.requester,
      statement: request.statement,
      statementSha256: request.statementSha256,
      reason: request.reason,
      rules: request.rules,
      expiresAt: request.expiresAt,
    },
  };
}

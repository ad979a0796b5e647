// Approvals (DESIGN.md §5): a `review` statement becomes a request bound to the identity, the
// connection, the sha256 of the exact text and an expiry; the session holds it until someone in
// every matching rule's approver groups — never the requester — approves it (it then runs
// once), denies it, or it expires. Decisions reach the replica holding the statement through
// the store's LISTEN/NOTIFY; a re-run of the same statement by the same identity attaches to
// the live request, so a gateway restart or a reconnect loses nothing.

import { createHash, randomUUID } from "node:crypto";
import { cutText } from "../audit/bounds.js";
import type { AuditEvent } from "../audit/store-log.js";
import type { Identity } from "../facts/types.js";
import type { Logger } from "../log.js";
import type { ApprovalAsk, ApprovalVerdict, HeldStatement, ProxyApprovals } from "../postgres/context.js";
import type { Store } from "../store/types.js";
import { ApprovalRepository } from "./repository.js";
import { ApprovalError, type ApprovalRequest, type ApprovalState, type ReviewRule } from "./types.js";
import { Wakeups } from "./wakeups.js";

export const DEFAULT_APPROVAL_TIMEOUT_MS = 15 * 60_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ApprovalServiceOptions {
  store: Store;
  audit: { append(event: AuditEvent): Promise<void> };
  logger: Logger;
  /** verifies an approver's bearer token (throws with a message the caller may see) */
  verifyToken(token: string): Promise<Identity>;
  /** the declared groups of an approver under the bundle in force; undefined when none is loaded */
  groupsOf(identity: Identity): string[] | undefined;
  /** where an approver acts on a request (the console) */
  approvalUrl(id: string): string;
  /** for review rules without a timeout */
  defaultTimeoutMs?: number;
  /** each new request (not a re-attach): webhook, metrics; must not throw or block */
  onCreated?(request: ApprovalRequest): void;
}

export interface DecisionInput {
  /** the approver's bearer token */
  token: string;
  approve: boolean;
  note?: string;
}

export class ApprovalService implements ProxyApprovals {
  private readonly repo: ApprovalRepository;
  private readonly wakeups: Wakeups;

  private constructor(private readonly options: ApprovalServiceOptions) {
    this.repo = new ApprovalRepository(options.store);
    this.wakeups = new Wakeups(options.store, options.logger);
  }

  static async start(options: ApprovalServiceOptions): Promise<ApprovalService> {
    const service = new ApprovalService(options);
    await service.wakeups.start();
    return service;
  }

  async hold(ask: ApprovalAsk): Promise<HeldStatement> {
    const now = new Date();
    const { decision } = ask;
    const rules: ReviewRule[] = decision.reviewRules ?? [{ id: decision.rules.join(", "), approvers: decision.approvers }];
    if (rules.some((r) => r.approvers.length === 0)) throw new Error("a review rule names no approvers");
    const { request, created } = await this.repo.createOrAttach({
      id: `apr_${randomUUID().replaceAll("-", "")}`,
      createdAt: now,
      expiresAt: new Date(now.getTime() + (decision.timeoutMs ?? this.options.defaultTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS)),
      issuer: ask.identity.issuer,
      subject: ask.identity.subject,
      connection: ask.connection,
      session: ask.sessionId,
      statement: ask.text,
      statementSha256: createHash("sha256").update(ask.text, "utf8").digest("hex"),
      reason: decision.reason,
      rules,
    });
    if (created) {
      // the request keeps the whole text; its audit entry the bounded part a statement's record keeps
      const cut = cutText(request.statement);
      await this.record("approval_requested", request, ask.sessionId, {
        statement: cut === undefined ? request.statement : cut.text,
        ...(cut !== undefined && { statementBytes: cut.bytes }),
        statementSha256: request.statementSha256, rules, expiresAt: request.expiresAt,
      });
      this.options.onCreated?.(request);
    } else {
      await this.record("approval_attached", request, ask.sessionId, {});
    }
    return {
      id: request.id,
      url: this.options.approvalUrl(request.id),
      expiresAt: new Date(request.expiresAt),
      attached: !created,
      wait: (signal) => this.wait(request, ask.sessionId, signal),
    };
  }

  list(options: { state?: ApprovalState; limit?: number } = {}): Promise<ApprovalRequest[]> {
    return this.repo.list(options);
  }

  get(id: string): Promise<ApprovalRequest | undefined> {
    return this.repo.get(id, new Date());
  }

  pendingCount(): Promise<number> {
    return this.repo.countPending(new Date());
  }

  /** approve or deny with the approver's own token; throws ApprovalError with the HTTP status */
  async decide(id: string, input: DecisionInput): Promise<ApprovalRequest> {
    let approver: Identity;
    try {
      approver = await this.options.verifyToken(input.token);
    } catch (err) {
      throw new ApprovalError(401, `approver token refused: ${(err as Error).message}`);
    }
    const groups = this.options.groupsOf(approver);
    if (groups === undefined) throw new ApprovalError(503, "no policy bundle is loaded: approver groups are unknown");
    const actor = { issuer: approver.issuer, subject: approver.subject };
    const verb = input.approve ? "approve" : "deny";
    try {
      const request = await this.repo.decide(id, new Date(), (request) => {
        if (request.state !== "pending") throw new ApprovalError(409, `approval request ${id} is ${request.state}, it can no longer be decided`);
        if (input.approve && request.requester.issuer === actor.issuer && request.requester.subject === actor.subject) {
          throw new ApprovalError(403, `${actor.subject} asked for this statement and cannot approve it`);
        }
        const unmet = request.rules.filter((rule) => !rule.approvers.some((g) => groups.includes(g)));
        if (unmet.length > 0) {
          const needs = unmet.map((r) => `${r.id} needs one of [${r.approvers.join(", ")}]`).join("; ");
          throw new ApprovalError(403, `${actor.subject} may not ${verb} this request (in groups [${groups.join(", ")}]): ${needs}`);
        }
      }, { approve: input.approve, ...actor, groups, ...(input.note !== undefined && { note: input.note }) });
      await this.record(input.approve ? "approval_approved" : "approval_denied", request, request.session ?? undefined, { by: actor, groups, note: input.note });
      this.wakeups.wake(id);
      return request;
    } catch (err) {
      if (err instanceof ApprovalError && err.status === 403) {
        await this.record("approval_refused", { id }, undefined, { by: actor, groups, action: verb, message: err.message });
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.wakeups.close();
  }

  private wait(request: ApprovalRequest, session: string, signal: AbortSignal): Promise<ApprovalVerdict> {
    const { id } = request;
    const expiresAt = Date.parse(request.expiresAt);
    return new Promise((resolve, reject) => {
      let done = false;
      let checking: Promise<void> = Promise.resolve();
      const finish = (verdict: ApprovalVerdict | Error): void => {
        if (done) return;
        done = true;
        off();
        clearTimeout(timer);
        signal.removeEventListener("abort", aborted);
        if (verdict instanceof Error) reject(verdict);
        else resolve(verdict);
      };
      const check = async (): Promise<void> => {
        if (done) return;
        try {
          const verdict = await this.verdict(id, session, expiresAt);
          if (verdict !== undefined) finish(verdict);
        } catch (err) {
          this.options.logger.error({ err, approval: id }, "cannot read the approval request");
          // fail closed: a statement whose approval cannot be confirmed by its expiry never runs
          if (Date.now() >= expiresAt) finish({ outcome: "expired" });
        }
      };
      const queueCheck = (): void => {
        checking = checking.then(check);
      };
      const aborted = (): void => finish(new Error("the session ended while its statement was held"));
      const off = this.wakeups.on(id, queueCheck);
      // setTimeout caps at about 24.8 days: a longer expiry re-arms until it is reached
      let timer: NodeJS.Timeout;
      const arm = (): void => {
        timer = setTimeout(() => {
          if (Date.now() < expiresAt) arm();
          else queueCheck();
        }, Math.min(MAX_TIMER_MS, Math.max(0, expiresAt - Date.now()) + 5));
      };
      arm();
      signal.addEventListener("abort", aborted);
      if (signal.aborted) return aborted();
      queueCheck(); // decided before we started listening (an attach to an approved request)
    });
  }

  /** the verdict once the request is decided, or undefined while it is still pending */
  private async verdict(id: string, session: string, expiresAt: number): Promise<ApprovalVerdict | undefined> {
    const request = await this.repo.get(id);
    if (request === undefined) return { outcome: "expired" };
    const by = request.decidedBy?.subject ?? "unknown";
    switch (request.state) {
      case "approved":
        if (!(await this.repo.consume(id, new Date()))) return { outcome: "used" };
        await this.record("approval_released", request, session, { by: request.decidedBy });
        return { outcome: "approved", by };
      case "denied":
        return request.note === null ? { outcome: "denied", by } : { outcome: "denied", by, note: request.note };
      case "expired":
        return { outcome: "expired" };
      case "consumed":
        return { outcome: "used" };
      case "pending":
        if (Date.now() < expiresAt) return undefined;
        if (await this.repo.expire(id)) await this.record("approval_expired", request, session, {});
        return this.verdict(id, session, Number.POSITIVE_INFINITY);
    }
  }

  private async record(type: string, request: Pick<ApprovalRequest, "id"> & Partial<ApprovalRequest>, session: string | undefined, data: Record<string, unknown>): Promise<void> {
    const event: AuditEvent = {
      type,
      data: {
        request: request.id,
        ...(request.requester !== undefined && { requester: request.requester, connection: request.connection }),
        ...data,
      },
    };
    if (session !== undefined) event.session = session;
    try {
      await this.options.audit.append(event);
    } catch (err) {
      this.options.logger.error({ err, approval: request.id }, `audit of ${type} failed`);
    }
  }
}

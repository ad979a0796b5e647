// The approval tables: create-or-attach, decide, consume, expire. Each state change is one
// conditional UPDATE (or a row lock), so replicas sharing a store never decide or consume a
// request twice; decisions NOTIFY the channel every replica listens on.

import type { Queryable, Store } from "../store/types.js";
import { ApprovalError, type ApprovalRequest, type ApprovalState, type ReviewRule } from "./types.js";

export const APPROVALS_CHANNEL = "hoopgate_approvals";

/** the live (pending or approved) request for an identity, connection and statement digest: at most one */
const LIVE_REQUEST = `select * from approval_requests where issuer = $1 and subject = $2 and connection = $3 and statement_sha256 = $4 and state in ('pending', 'approved')`;

type RequestRow = {
  id: string; created_at: Date | string; expires_at: Date | string; state: ApprovalState;
  issuer: string; subject: string; connection: string; session_id: string | null;
  statement: string; statement_sha256: string; reason: string; rules: ReviewRule[] | string;
  decided_at: Date | string | null; decided_issuer: string | null; decided_subject: string | null; decision_note: string | null;
};

export interface NewRequest {
  id: string;
  createdAt: Date;
  expiresAt: Date;
  issuer: string;
  subject: string;
  connection: string;
  session: string;
  statement: string;
  statementSha256: string;
  reason: string;
  rules: ReviewRule[];
}

export class ApprovalRepository {
  constructor(private readonly store: Store) {}

  /**
   * The live request for this identity, connection and text under the same review rules, or a
   * new one; `created` tells which. A live request asked of other rules (the bundle changed, or
   * the identity's claims map to other rules now) is superseded: it expires, since its approvers
   * are not the ones the rules in force name.
   */
  async createOrAttach(request: NewRequest): Promise<{ request: ApprovalRequest; created: boolean }> {
    return this.store.transaction(async (tx) => {
      const key = [request.issuer, request.subject, request.connection, request.statementSha256];
      await tx.query(
        `update approval_requests set state = 'expired' where issuer = $1 and subject = $2 and connection = $3 and statement_sha256 = $4
           and state in ('pending', 'approved') and expires_at <= $5`,
        [...key, request.createdAt],
      );
      const [current] = await tx.query<RequestRow>(LIVE_REQUEST, key);
      if (current !== undefined) {
        const found = toRequest(current);
        if (sameRules(found.rules, request.rules)) return { request: found, created: false };
        await tx.query(`update approval_requests set state = 'expired' where id = $1`, [current.id]);
        await tx.query(`select pg_notify($1, $2)`, [APPROVALS_CHANNEL, current.id]);
      }
      const inserted = await tx.query<RequestRow>(
        `insert into approval_requests (id, created_at, expires_at, state, issuer, subject, connection, session_id, statement, statement_sha256, reason, rules)
         values ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9, $10, $11)
         on conflict (issuer, subject, connection, statement_sha256) where state in ('pending', 'approved') do nothing
         returning *`,
        [request.id, request.createdAt, request.expiresAt, request.issuer, request.subject, request.connection, request.session,
          request.statement, request.statementSha256, request.reason, JSON.stringify(request.rules)],
      );
      if (inserted[0] !== undefined) return { request: toRequest(inserted[0]), created: true };
      // another transaction (a session here or on another replica) created it since the read above
      const [live] = await tx.query<RequestRow>(LIVE_REQUEST, key);
      if (live === undefined) throw new Error("approval request vanished while attaching to it");
      return { request: toRequest(live), created: false };
    });
  }

  /** `now`: report a lapsed pending request as expired (for readers); without it, the stored state */
  async get(id: string, now?: Date): Promise<ApprovalRequest | undefined> {
    const [row] = await this.store.query<RequestRow>(`select * from approval_requests where id = $1`, [id]);
    return row === undefined ? undefined : toRequest(row, now);
  }

  async list(options: { state?: ApprovalState; limit?: number }): Promise<ApprovalRequest[]> {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const now = new Date();
    // a pending request past its expiry is expired, whether or not a waiter has marked it yet
    const rows = options.state === undefined
      ? await this.store.query<RequestRow>(`select * from approval_requests order by created_at desc limit $1`, [limit])
      : options.state === "pending"
        ? await this.store.query<RequestRow>(`select * from approval_requests where state = 'pending' and expires_at > $2 order by created_at desc limit $1`, [limit, now])
        : options.state === "expired"
          ? await this.store.query<RequestRow>(`select * from approval_requests where state = 'expired' or (state = 'pending' and expires_at <= $2) order by created_at desc limit $1`, [limit, now])
          : await this.store.query<RequestRow>(`select * from approval_requests where state = $2 order by created_at desc limit $1`, [limit, options.state]);
    return rows.map((row) => toRequest(row, now));
  }

  async countPending(now: Date): Promise<number> {
    const [row] = await this.store.query<{ n: unknown }>(`select count(*) as n from approval_requests where state = 'pending' and expires_at > $1`, [now]);
    return Number(row?.n ?? 0);
  }

  /**
   * Runs `check` on the locked pending request, then records the decision and notifies.
   * `check` throws to refuse; a request that is not pending (or has expired) is passed as is.
   */
  async decide(
    id: string,
    now: Date,
    check: (request: ApprovalRequest) => void,
    decision: { approve: boolean; issuer: string; subject: string; groups: string[]; note?: string },
  ): Promise<ApprovalRequest> {
    return this.store.transaction(async (tx) => {
      const [row] = await tx.query<RequestRow>(`select * from approval_requests where id = $1 for update`, [id]);
      if (row !== undefined && row.state === "pending" && new Date(row.expires_at) <= now) {
        await expire(tx, id);
        row.state = "expired";
      }
      if (row === undefined) throw new ApprovalError(404, `no approval request ${id}`);
      check(toRequest(row));
      const [updated] = await tx.query<RequestRow>(
        `update approval_requests set state = $2, decided_at = $3, decided_issuer = $4, decided_subject = $5, decision_note = $6
         where id = $1 and state = 'pending' returning *`,
        [id, decision.approve ? "approved" : "denied", now, decision.issuer, decision.subject, decision.note ?? null],
      );
      await tx.query(
        `insert into approval_decisions (request_id, decision, issuer, subject, groups, note, at) values ($1, $2, $3, $4, $5, $6, $7)`,
        [id, decision.approve ? "approve" : "deny", decision.issuer, decision.subject, JSON.stringify(decision.groups), decision.note ?? null, now],
      );
      await tx.query(`select pg_notify($1, $2)`, [APPROVALS_CHANNEL, id]);
      return toRequest(updated!);
    });
  }

  /** takes the approval for one execution; false when it was already taken or has expired */
  async consume(id: string, now: Date): Promise<boolean> {
    const rows = await this.store.query(
      `update approval_requests set state = 'consumed', consumed_at = $2 where id = $1 and state = 'approved' and expires_at > $2 returning id`,
      [id, now],
    );
    return rows.length === 1;
  }

  /** marks a pending request expired; false when it was decided first */
  async expire(id: string): Promise<boolean> {
    return this.store.transaction((tx) => expire(tx, id));
  }
}

async function expire(tx: Queryable, id: string): Promise<boolean> {
  const rows = await tx.query(`update approval_requests set state = 'expired' where id = $1 and state = 'pending' returning id`, [id]);
  if (rows.length === 1) await tx.query(`select pg_notify($1, $2)`, [APPROVALS_CHANNEL, id]);
  return rows.length === 1;
}

/** the same review rules: each rule's id and approver groups, whatever their order */
function sameRules(a: readonly ReviewRule[], b: readonly ReviewRule[]): boolean {
  const canonical = (rules: readonly ReviewRule[]): string =>
    JSON.stringify(rules.map((r) => [r.id, [...r.approvers].sort()]).sort((x, y) => (x[0]! < y[0]! ? -1 : x[0]! > y[0]! ? 1 : 0)));
  return canonical(a) === canonical(b);
}

/** `now`: report a pending request past its expiry as expired */
function toRequest(row: RequestRow, now?: Date): ApprovalRequest {
  const lapsed = now !== undefined && row.state === "pending" && new Date(row.expires_at) <= now;
  return {
    id: row.id,
    state: lapsed ? "expired" : row.state,
    createdAt: iso(row.created_at),
    expiresAt: iso(row.expires_at),
    requester: { issuer: row.issuer, subject: row.subject },
    connection: row.connection,
    session: row.session_id,
    statement: row.statement,
    statementSha256: row.statement_sha256,
    reason: row.reason,
    rules: typeof row.rules === "string" ? (JSON.parse(row.rules) as ReviewRule[]) : row.rules,
    decidedAt: row.decided_at === null ? null : iso(row.decided_at),
    decidedBy: row.decided_issuer === null || row.decided_subject === null ? null : { issuer: row.decided_issuer, subject: row.decided_subject },
    note: row.decision_note,
  };
}

function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

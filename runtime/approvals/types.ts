// Approval requests as the API, the console and the webhook see them.

export type ApprovalState = "pending" | "approved" | "denied" | "expired" | "consumed";

/** one matching review rule: someone in one of its approver groups must approve */
export interface ReviewRule {
  id: string;
  approvers: string[];
}

export interface ApprovalRequest {
  id: string;
  state: ApprovalState;
  createdAt: string;
  expiresAt: string;
  requester: { issuer: string; subject: string };
  connection: string;
  session: string | null;
  statement: string;
  statementSha256: string;
  reason: string;
  rules: ReviewRule[];
  decidedAt: string | null;
  decidedBy: { issuer: string; subject: string } | null;
  note: string | null;
}

/** a refused API action: the HTTP status and a message the caller may see */
export class ApprovalError extends Error {
  override name = "ApprovalError";
  constructor(readonly status: 401 | 403 | 404 | 409 | 503, message: string) {
    super(message);
  }
}

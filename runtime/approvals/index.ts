export { ApprovalService, DEFAULT_APPROVAL_TIMEOUT_MS, type ApprovalServiceOptions, type DecisionInput } from "./service.js";
export { WebhookNotifier, slackPayload, type WebhookOptions } from "./webhook.js";
export { ApprovalError, type ApprovalRequest, type ApprovalState, type ReviewRule } from "./types.js";
export { APPROVALS_CHANNEL } from "./repository.js";

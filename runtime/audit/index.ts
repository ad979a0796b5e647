export type { AuditSink, AuditEntry, Protocol, SessionStartedRecord, StatementRecord, SessionEndedRecord, StatementOutput } from "./sink.js";
export { openJsonlAuditFile } from "./jsonl-file.js";
export {
  StoreAuditLog, inProcessWriter, AuditBacklogError, DEFAULT_BACKLOG_BUDGET, type AuditEvent, type Backlog, type BacklogBudget, type BatchWriter,
} from "./store-log.js";
export { startWriterThread } from "./writer-thread.js";
export { verifyAuditLog, type Verification } from "./verify.js";
export { listSessions, getSession, allEntries, type SessionSummary } from "./read.js";
export { replayTranscript } from "./replay.js";
export { toOcsf } from "./ocsf.js";
export { GENESIS, chainHash, type ChainEntry } from "./chain.js";

export type { AuditSink, AuditEntry, Protocol, SessionStartedRecord, StatementRecord, SessionEndedRecord } from "./sink.js";
export { openJsonlAuditFile } from "./jsonl-file.js";

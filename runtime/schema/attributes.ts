// The attribute vocabulary shared by the compiler (type checking) and the runtime (facts).
// DESIGN.md §2 "Attributes" is the source of this table; keep the two in step.

export const CONNECTION_KINDS = ["postgres", "ssh", "kubernetes"] as const;
export type ConnectionKind = (typeof CONNECTION_KINDS)[number];

export const SQL_COMMANDS = [
  "select", "insert", "update", "delete", "merge", "copy", "create", "alter", "drop",
  "truncate", "grant", "revoke", "set", "show", "begin", "commit", "rollback", "call", "do",
  "execute", "prepare", "explain", "vacuum", "analyze", "lock", "listen", "notify", "comment",
  "reindex", "cluster", "refresh", "other",
] as const;
export type SqlCommand = (typeof SQL_COMMANDS)[number];

export const SQL_COPY_KINDS = [
  "to_stdout", "from_stdin", "to_file", "from_file", "to_program", "from_program",
] as const;
export type SqlCopyKind = (typeof SQL_COPY_KINDS)[number];

export const SSH_KINDS = ["exec", "shell", "sftp", "port_forward", "agent_forward", "x11"] as const;
export type SshKind = (typeof SSH_KINDS)[number];

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const K8S_VERBS = [
  "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection",
] as const;

/** Value types an attribute can have. `any` is a token claim: checked at run time. */
export type AttrType =
  | { kind: "string" }
  | { kind: "number" }
  | { kind: "bool" }
  | { kind: "enum"; values: readonly string[] }
  | { kind: "set"; of: "string" }
  | { kind: "any" };

/** When an attribute becomes known: once per session, or per command/statement. */
export type Stage = "session" | "command" | ConnectionKind;

export interface AttrSpec {
  name: string;
  type: AttrType;
  stage: Stage;
  /** The connection kind the attribute needs, if any (sql.* → postgres). */
  requires?: ConnectionKind;
  doc: string;
}

const str = { kind: "string" } as const;
const num = { kind: "number" } as const;
const bool = { kind: "bool" } as const;
const set = { kind: "set", of: "string" } as const;
const oneOf = (values: readonly string[]) => ({ kind: "enum", values }) as const;

export const ATTRIBUTES: readonly AttrSpec[] = [
  { name: "identity.issuer", type: str, stage: "session", doc: "the token's `iss`" },
  { name: "identity.subject", type: str, stage: "session", doc: "the token's `sub`" },
  { name: "identity.groups", type: set, stage: "session", doc: "declared groups the identity is in" },
  { name: "connection.name", type: str, stage: "session", doc: "the connection's name" },
  { name: "connection.kind", type: oneOf(CONNECTION_KINDS), stage: "session", doc: "postgres | ssh | kubernetes" },
  { name: "connection.tags", type: set, stage: "session", doc: "the connection's tags" },
  { name: "time.hour", type: num, stage: "command", doc: "hour of day, 0–23, UTC" },
  { name: "time.weekday", type: oneOf(WEEKDAYS), stage: "command", doc: "mon … sun (UTC)" },
  { name: "sql.command", type: oneOf(SQL_COMMANDS), stage: "postgres", requires: "postgres", doc: "the statement's command" },
  { name: "sql.tables", type: set, stage: "postgres", requires: "postgres", doc: "relations read or written, bare and qualified" },
  { name: "sql.functions", type: set, stage: "postgres", requires: "postgres", doc: "functions called or bound by DDL (CREATE OPERATOR … FUNCTION = f), bare and qualified" },
  { name: "sql.has_where", type: bool, stage: "postgres", requires: "postgres", doc: "UPDATE/DELETE has a non-constant WHERE" },
  { name: "sql.copy", type: oneOf(SQL_COPY_KINDS), stage: "postgres", requires: "postgres", doc: "direction and endpoint of COPY" },
  { name: "sql.stores", type: bool, stage: "postgres", requires: "postgres", doc: "the statement keeps values or changes state beyond its result: INSERT/UPDATE/MERGE, CREATE TABLE AS, COPY to a file, a builtin that stores (nextval, lo_unlink, pg_notify, advisory locks…)" },
  { name: "sql.text", type: str, stage: "postgres", requires: "postgres", doc: "the statement's text" },
  { name: "sql.statements", type: num, stage: "postgres", requires: "postgres", doc: "statements in the query" },
  { name: "ssh.kind", type: oneOf(SSH_KINDS), stage: "ssh", requires: "ssh", doc: "exec | shell | sftp | port_forward | agent_forward | x11" },
  { name: "ssh.command", type: str, stage: "ssh", requires: "ssh", doc: "the exec command line" },
  { name: "ssh.programs", type: set, stage: "ssh", requires: "ssh", doc: "basenames of every program the command runs" },
  { name: "ssh.args", type: set, stage: "ssh", requires: "ssh", doc: "every argument word" },
  { name: "ssh.dynamic", type: bool, stage: "ssh", requires: "ssh", doc: "the command builds code at run time" },
  { name: "k8s.verb", type: oneOf(K8S_VERBS), stage: "kubernetes", requires: "kubernetes", doc: "RequestInfo verb" },
  { name: "k8s.resource", type: str, stage: "kubernetes", requires: "kubernetes", doc: "RequestInfo resource" },
  { name: "k8s.subresource", type: str, stage: "kubernetes", requires: "kubernetes", doc: "RequestInfo subresource" },
  { name: "k8s.namespace", type: str, stage: "kubernetes", requires: "kubernetes", doc: "RequestInfo namespace" },
  { name: "k8s.name", type: str, stage: "kubernetes", requires: "kubernetes", doc: "RequestInfo name" },
  { name: "k8s.group", type: str, stage: "kubernetes", requires: "kubernetes", doc: "RequestInfo API group" },
];

export const ATTRIBUTE_BY_NAME: ReadonlyMap<string, AttrSpec> = new Map(
  ATTRIBUTES.map((a) => [a.name, a]),
);

/** `claims.NAME` is open-ended: any verified token claim, typed `any`. */
export const CLAIMS_PREFIX = "claims.";

/** The attribute each connection kind indexes its rules by (DESIGN.md §3). */
export const DISCRIMINANT: Record<ConnectionKind, string> = {
  postgres: "sql.command",
  ssh: "ssh.kind",
  kubernetes: "k8s.verb",
};

export const MASK_STRATEGIES = ["redact", "partial", "hash", "null"] as const;
export type MaskStrategyKind = (typeof MASK_STRATEGIES)[number];

export const DETECTORS = [
  "email", "credit_card", "us_ssn", "iban", "aws_access_key", "aws_secret_key", "jwt",
  "private_key", "phone",
] as const;
export type DetectorName = (typeof DETECTORS)[number];

// Facts the fact extractors produce and the decision engine reads. Pure data.

import type { SqlCommand, SqlCopyKind, SshKind } from "../schema/attributes.js";

export interface SqlStatementFacts {
  command: SqlCommand;
  /** relations read or written: bare (`users`) and qualified (`public.users`), deduplicated, sorted */
  tables: string[];
  /** functions called: bare and qualified, deduplicated, sorted */
  functions: string[];
  /** UPDATE/DELETE (or MERGE…) has a WHERE that is not constant-true; true for other commands */
  hasWhere: boolean;
  copy?: SqlCopyKind;
  /** this statement's own text (a slice of the query) */
  text: string;
}

export type SqlFacts =
  | { ok: true; statements: SqlStatementFacts[] }
  /** text that does not parse: the engine denies it */
  | { ok: false; error: string; position?: number };

export interface SshFacts {
  kind: SshKind;
  /** exec command line, when kind is exec */
  command?: string;
  /** basenames of every program run, sorted, deduplicated */
  programs: string[];
  /** every argument word (not program names), sorted, deduplicated */
  args: string[];
  dynamic: boolean;
  /** set when the command does not parse: the engine denies it */
  error?: string;
}

export interface K8sFacts {
  verb: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  group?: string;
}

/** What the gateway knows about the caller once the token verified. */
export interface Identity {
  issuer: string;
  subject: string;
  /** every verified claim, including iss and sub */
  claims: Record<string, unknown>;
}

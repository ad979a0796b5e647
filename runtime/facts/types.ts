// Facts the fact extractors produce and the decision engine reads. Pure data.

import type { SqlCommand, SqlCopyKind, SshKind } from "../schema/attributes.js";

export interface SqlStatementFacts {
  command: SqlCommand;
  /** relations read or written: bare (`users`) and qualified (`public.users`), deduplicated, sorted */
  tables: string[];
  /** functions called, and those DDL binds for the server to call later: bare and qualified, deduplicated, sorted */
  functions: string[];
  /** every UPDATE/DELETE/MERGE/upsert it runs restricts its rows (docs/sql-facts.md); true for other commands */
  hasWhere: boolean;
  copy?: SqlCopyKind;
  /** what the statement runs without naming it as a function (no `sql.*` attribute); absent when nothing */
  indirect?: SqlIndirect;
  /** values the statement keeps beyond the rows its client receives (`sql.stores` is whether there are any); absent when it keeps none */
  stores?: SqlStores;
  /** prepared statements and cursors the statement may create, replace or drop (no `sql.*` attribute); absent when none */
  sessionNames?: SqlSessionNames;
  /**
   * it creates a view, schema or rule, or renames or moves an object: a relation name may stand
   * for something else afterwards (no `sql.*` attribute; absent otherwise)
   */
  rebinds?: true;
  /**
   * it creates or changes code the server runs later (a function, aggregate, operator, cast,
   * trigger, domain, policy…), no `sql.*` attribute; absent otherwise
   */
  definesCode?: true;
  /** the prepared statements `EXECUTE` runs (no `sql.*` attribute; absent when none) */
  executes?: string[];
  /** the cursors (portals) `FETCH` and `MOVE` read (no `sql.*` attribute; absent when none) */
  fetches?: string[];
  /** this statement's own text (a slice of the query) */
  text: string;
}

/**
 * Code and rows a statement reaches without a function call or a table name in its text: the
 * proxy's masking asks its catalog about them (docs/masking.md). Names are bare, plus
 * `schema.name` when qualified; sorted, deduplicated.
 */
export interface SqlIndirect {
  /** operators, written (`a ### b`, `OPERATOR(s.###)`, `ORDER BY a USING <`) or implied (BETWEEN, IN (subquery), CASE x WHEN) */
  operators: string[];
  /** target types of casts: `x::t`, `CAST(x AS t)`, `t 'literal'` */
  casts: string[];
  /** the last field of qualified column references (`t.f`, `(t).f`): attribute notation runs `f(t)` when `t` has no column `f` */
  attributes: string[];
  /** EXECUTE, FETCH or MOVE: the rows come from a statement prepared or a cursor declared earlier */
  stored: boolean;
}

/**
 * Values a statement keeps beyond the rows its client receives — rows it inserts or updates, a
 * table it creates from a query, a setting (`set_config`), a large object, a file, a
 * notification — and where they may come from. The proxy refuses such a statement when they may
 * come from a masked column, since the mask would not follow the copy (docs/masking.md).
 */
export interface SqlStores {
  /** relations whose values may be stored (bare and qualified), sorted; write targets apart */
  from: string[];
  /** write targets whose own columns a stored value refers to, with those columns (`*`: a whole row) */
  targets: SqlStoreTarget[];
}

/**
 * The session's named objects a statement may create, replace or drop — PREPARE, DEALLOCATE,
 * DECLARE, CLOSE, DISCARD ALL, and DO and CALL (code the facts cannot see into) — so the proxy
 * stops trusting what it knew of those names (docs/masking.md). Names as the parser folded them;
 * `*` stands for every name (DEALLOCATE ALL, CLOSE ALL, DISCARD ALL, DO, CALL). Sorted.
 */
export interface SqlSessionNames {
  /** prepared statements (the protocol's named statements) */
  statements: string[];
  /** cursors (the protocol's portals) */
  portals: string[];
}

export interface SqlStoreTarget {
  /** the target relation, bare and qualified */
  names: string[];
  /** sorted */
  columns: string[];
}

export type SqlFacts =
  | { ok: true; statements: SqlStatementFacts[] }
  /** text that does not parse, or (`refused`) parses into what the gateway never lets through: the engine denies it */
  | { ok: false; error: string; position?: number; refused?: true };

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
  /**
   * When the token stops being accepted: its `exp` plus the issuer's clock skew (set by the
   * token verifier). The PostgreSQL proxy ends a session then; absent: no deadline is known.
   */
  expiresAt?: Date;
  /**
   * Which trust the token was verified under (set by the token verifier): a fingerprint of its
   * issuer's key source and verification settings. When the issuers change, an open session
   * asks `TokenVerifier.distrust` whether its token is still accepted; absent: it never was.
   */
  verifiedUnder?: string;
}

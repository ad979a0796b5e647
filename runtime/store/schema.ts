// The store's schema as versioned migrations. A migration is never edited once released: a
// change is a new entry at the end. Every statement runs on PostgreSQL 15+ and on PGlite.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "audit log, sessions, approvals",
    sql: `
      -- append-only, hash-chained: hash = sha256(prev_hash || entry); entry is the canonical JSON
      -- of {seq, time, type, session?, data}, stored verbatim so verification is exact
      create table audit_log (
        seq        bigint primary key,
        time       timestamptz not null,
        type       text not null,
        session_id text,
        entry      text not null,
        prev_hash  text not null,
        hash       text not null
      );
      create index audit_log_session on audit_log (session_id, seq) where session_id is not null;
      -- the chain's head, written in the same transaction as each append: deleting the tail
      -- of the log needs this row rewritten too
      create table audit_head (
        id   boolean primary key default true check (id),
        seq  bigint not null,
        hash text not null
      );

      create table sessions (
        id              text primary key,
        protocol        text not null,
        issuer          text not null,
        subject         text not null,
        connection      text not null,
        client          text,
        started_at      timestamptz not null,
        ended_at        timestamptz,
        statements      integer not null default 0,
        rows_out        bigint not null default 0,
        bytes_out       bigint not null default 0,
        error           text
      );
      create index sessions_started on sessions (started_at desc);

      create table approval_requests (
        id                text primary key,
        created_at        timestamptz not null,
        expires_at        timestamptz not null,
        state             text not null check (state in ('pending', 'approved', 'denied', 'expired', 'consumed')),
        issuer            text not null,
        subject           text not null,
        connection        text not null,
        session_id        text,
        statement         text not null,
        statement_sha256  text not null,
        reason            text not null,
        rules             jsonb not null,
        decided_at        timestamptz,
        decided_issuer    text,
        decided_subject   text,
        decision_note     text,
        consumed_at       timestamptz
      );
      -- at most one live request per identity, connection and statement: a re-run attaches to it
      create unique index approval_requests_live
        on approval_requests (issuer, subject, connection, statement_sha256)
        where state in ('pending', 'approved');
      create index approval_requests_state on approval_requests (state, created_at);

      create table approval_decisions (
        id          bigserial primary key,
        request_id  text not null references approval_requests (id),
        decision    text not null check (decision in ('approve', 'deny')),
        issuer      text not null,
        subject     text not null,
        groups      jsonb not null,
        note        text,
        at          timestamptz not null
      );
    `,
  },
  {
    version: 2,
    name: "admin API objects",
    sql: `
      -- what the admin API added to the config file (connections, issuers, webhooks): one
      -- document, replaced whole in each change; NOTIFY hoopgate_admin tells the other replicas
      create table admin_state (
        id         boolean primary key default true check (id),
        document   jsonb not null,
        updated_at timestamptz not null
      );
    `,
  },
  {
    version: 3,
    name: "audit log: session index on session_id alone",
    sql: `
      -- a session's entries are looked up by session_id and sorted; without seq in the key, the
      -- entries of one session share index tuples (deduplication) and each append costs the
      -- server less
      drop index audit_log_session;
      create index audit_log_session_id on audit_log (session_id) where session_id is not null;
    `,
  },
];

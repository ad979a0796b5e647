// Filling the flat attribute record conditions read (slots.ts). One record per session:
// session attributes are written once, statement attributes are overwritten in place before
// each decision (decisions are synchronous, so no two interleave), so the hot path allocates
// nothing for facts.

import type { BundleConnection } from "../bundle/format.js";
import type { Identity, K8sFacts, SqlStatementFacts, SshFacts } from "../facts/types.js";
import { CLAIMS_PREFIX, WEEKDAYS } from "../schema/attributes.js";
import { vocabularySlot as slot, type AttributeRecord, type AttributeSlots } from "./slots.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** 1970-01-01 was a Thursday: day 0 is index 3 in `mon … sun`. */
const EPOCH_WEEKDAY = 3;

const IDENTITY_ISSUER = slot("identity.issuer");
const IDENTITY_SUBJECT = slot("identity.subject");
const IDENTITY_GROUPS = slot("identity.groups");
const CONNECTION_NAME = slot("connection.name");
const CONNECTION_KIND = slot("connection.kind");
const CONNECTION_TAGS = slot("connection.tags");
const TIME_HOUR = slot("time.hour");
const TIME_WEEKDAY = slot("time.weekday");
const SQL_COMMAND = slot("sql.command");
const SQL_TABLES = slot("sql.tables");
const SQL_FUNCTIONS = slot("sql.functions");
const SQL_HAS_WHERE = slot("sql.has_where");
const SQL_COPY = slot("sql.copy");
const SQL_STORES = slot("sql.stores");
const SQL_TEXT = slot("sql.text");
const SQL_STATEMENTS = slot("sql.statements");
const SSH_KIND = slot("ssh.kind");
const SSH_COMMAND = slot("ssh.command");
const SSH_PROGRAMS = slot("ssh.programs");
const SSH_ARGS = slot("ssh.args");
const SSH_DYNAMIC = slot("ssh.dynamic");
const K8S_VERB = slot("k8s.verb");
const K8S_RESOURCE = slot("k8s.resource");
const K8S_SUBRESOURCE = slot("k8s.subresource");
const K8S_NAMESPACE = slot("k8s.namespace");
const K8S_NAME = slot("k8s.name");
const K8S_GROUP = slot("k8s.group");

/** identity.* and the claims conditions read; connection and group attributes stay missing. */
export function identityRecord(identity: Identity, slots: AttributeSlots): AttributeRecord {
  const record = slots.emptyRecord();
  record[IDENTITY_ISSUER] = identity.issuer;
  record[IDENTITY_SUBJECT] = identity.subject;
  for (const [name, s] of slots.claimSlots()) record[s] = claim(identity.claims, name.slice(CLAIMS_PREFIX.length));
  return record;
}

export function sessionRecord(
  identity: Identity,
  groups: string[],
  name: string,
  connection: BundleConnection,
  slots: AttributeSlots,
): AttributeRecord {
  const record = identityRecord(identity, slots);
  record[IDENTITY_GROUPS] = groups;
  record[CONNECTION_NAME] = name;
  record[CONNECTION_KIND] = connection.kind;
  record[CONNECTION_TAGS] = connection.tags;
  return record;
}

/**
 * `claims.a.b`: the claim named `a.b` if there is one, else claim `a`'s own property `b`
 * (nested claims, as in Kubernetes service account tokens). Inherited properties never count.
 */
function claim(claims: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let value: unknown = claims;
  for (const key of path.split(".")) {
    if (typeof value !== "object" || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export function setTime(record: AttributeRecord, now: Date | undefined): void {
  const ms = now === undefined ? Date.now() : now.getTime();
  if (!Number.isFinite(ms)) throw new TypeError("decision time is an invalid Date");
  const day = Math.floor(ms / DAY_MS);
  record[TIME_HOUR] = Math.floor((ms - day * DAY_MS) / HOUR_MS);
  record[TIME_WEEKDAY] = WEEKDAYS[(((day + EPOCH_WEEKDAY) % 7) + 7) % 7];
}

export function setSqlStatement(record: AttributeRecord, statement: SqlStatementFacts, count: number): void {
  record[SQL_COMMAND] = statement.command;
  record[SQL_TABLES] = statement.tables;
  record[SQL_FUNCTIONS] = statement.functions;
  record[SQL_HAS_WHERE] = statement.hasWhere;
  record[SQL_COPY] = statement.copy;
  record[SQL_STORES] = statement.stores !== undefined;
  record[SQL_TEXT] = statement.text;
  record[SQL_STATEMENTS] = count;
}

export function setSsh(record: AttributeRecord, facts: SshFacts): void {
  record[SSH_KIND] = facts.kind;
  record[SSH_COMMAND] = facts.command;
  record[SSH_PROGRAMS] = facts.programs;
  record[SSH_ARGS] = facts.args;
  record[SSH_DYNAMIC] = facts.dynamic;
}

export function setK8s(record: AttributeRecord, facts: K8sFacts): void {
  record[K8S_VERB] = facts.verb;
  record[K8S_RESOURCE] = facts.resource;
  record[K8S_SUBRESOURCE] = facts.subresource;
  record[K8S_NAMESPACE] = facts.namespace;
  record[K8S_NAME] = facts.name;
  record[K8S_GROUP] = facts.group;
}

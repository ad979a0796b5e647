// The flat attribute record conditions read. One record per session: session attributes are
// written once, statement attributes are overwritten in place before each decision (decisions
// are synchronous, so no two interleave), so the hot path allocates nothing for facts. Every
// vocabulary key exists from the start, which keeps the object's shape stable.

import type { BundleConnection } from "../bundle/format.js";
import type { Identity, K8sFacts, SqlStatementFacts, SshFacts } from "../facts/types.js";
import { ATTRIBUTES, CLAIMS_PREFIX, WEEKDAYS } from "../schema/attributes.js";
import type { Facts } from "./cond.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** 1970-01-01 was a Thursday: day 0 is index 3 in `mon … sun`. */
const EPOCH_WEEKDAY = 3;
const MAX_CLAIM_DEPTH = 4;

/** identity.* and claims.*; connection and group attributes stay missing until set. */
export function identityRecord(identity: Identity): Facts {
  const record: Facts = {};
  for (const attr of ATTRIBUTES) record[attr.name] = undefined;
  record["identity.issuer"] = identity.issuer;
  record["identity.subject"] = identity.subject;
  addClaims(record, CLAIMS_PREFIX, identity.claims);
  return record;
}

export function sessionRecord(
  identity: Identity,
  groups: string[],
  name: string,
  connection: BundleConnection,
): Facts {
  const record = identityRecord(identity);
  record["identity.groups"] = groups;
  record["connection.name"] = name;
  record["connection.kind"] = connection.kind;
  record["connection.tags"] = connection.tags;
  return record;
}

/** Nested claim objects are reachable as `claims.a.b` (a few levels deep); a claim named `a.b` wins. */
function addClaims(record: Facts, prefix: string, claims: Record<string, unknown>, depth = 0): void {
  const nested: [string, Record<string, unknown>][] = [];
  for (const [key, value] of Object.entries(claims)) {
    const name = prefix + key;
    if (record[name] === undefined) record[name] = value;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      nested.push([name, value as Record<string, unknown>]);
    }
  }
  if (depth >= MAX_CLAIM_DEPTH) return;
  for (const [name, value] of nested) addClaims(record, `${name}.`, value, depth + 1);
}

export function setTime(record: Facts, now: Date | undefined): void {
  const ms = now === undefined ? Date.now() : now.getTime();
  if (!Number.isFinite(ms)) throw new TypeError("decision time is an invalid Date");
  const day = Math.floor(ms / DAY_MS);
  record["time.hour"] = Math.floor((ms - day * DAY_MS) / HOUR_MS);
  record["time.weekday"] = WEEKDAYS[(((day + EPOCH_WEEKDAY) % 7) + 7) % 7];
}

export function setSqlStatement(record: Facts, statement: SqlStatementFacts, count: number): void {
  record["sql.command"] = statement.command;
  record["sql.tables"] = statement.tables;
  record["sql.functions"] = statement.functions;
  record["sql.has_where"] = statement.hasWhere;
  record["sql.copy"] = statement.copy;
  record["sql.text"] = statement.text;
  record["sql.statements"] = count;
}

export function setSsh(record: Facts, facts: SshFacts): void {
  record["ssh.kind"] = facts.kind;
  record["ssh.command"] = facts.command;
  record["ssh.programs"] = facts.programs;
  record["ssh.args"] = facts.args;
  record["ssh.dynamic"] = facts.dynamic;
}

export function setK8s(record: Facts, facts: K8sFacts): void {
  record["k8s.verb"] = facts.verb;
  record["k8s.resource"] = facts.resource;
  record["k8s.subresource"] = facts.subresource;
  record["k8s.namespace"] = facts.namespace;
  record["k8s.name"] = facts.name;
  record["k8s.group"] = facts.group;
}

// One identity on one connection (DESIGN.md §3): the applicable policies' merged table, masks
// and limits, and the attribute record its decisions reuse.

import type { K8sFacts, SqlFacts, SshFacts } from "../facts/types.js";
import type { ConnectionKind } from "../schema/attributes.js";
import { decideRequest, decideSqlQuery, refusal } from "./decide.js";
import type { FactExtractors } from "./extractors.js";
import { setK8s, setSsh, setTime } from "./facts-record.js";
import type { RuleTable } from "./rule-table.js";
import type { AttributeRecord } from "./slots.js";
import type { Decision, SessionLimits, SessionMasks, SessionPolicy, SshRequest } from "./types.js";

export interface SessionParts {
  connection: string;
  groups: string[];
  policies: string[];
  masks: SessionMasks;
  limits: SessionLimits;
  /** shared by every session with the same policy set on the same connection kind */
  table: RuleTable;
  /** session attributes filled in; statement attributes are overwritten per decision */
  record: AttributeRecord;
}

export class EngineSession implements SessionPolicy {
  readonly connection: string;
  readonly groups: string[];
  readonly policies: string[];
  readonly masks: SessionMasks;
  readonly limits: SessionLimits;
  readonly table: RuleTable;
  private readonly record: AttributeRecord;

  constructor(
    parts: SessionParts,
    private readonly extractors: FactExtractors,
  ) {
    this.connection = parts.connection;
    this.groups = parts.groups;
    this.policies = parts.policies;
    this.masks = parts.masks;
    this.limits = parts.limits;
    this.table = parts.table;
    this.record = parts.record;
  }

  decideSql(text: string, now?: Date): Decision {
    return this.wrongKind("postgres") ?? this.decideSqlFacts(this.extractors.sql(text), now);
  }

  /** For callers that hold facts already (explain, benchmarks). */
  decideSqlFacts(facts: SqlFacts, now?: Date): Decision {
    const wrong = this.wrongKind("postgres");
    if (wrong !== undefined) return wrong;
    setTime(this.record, now);
    return decideSqlQuery(this.table, this.record, this.connection, facts);
  }

  async decideSsh(request: SshRequest, now?: Date): Promise<Decision> {
    const wrong = this.wrongKind("ssh");
    if (wrong !== undefined) return wrong;
    if (request.kind !== "exec") return this.decideSshFacts(this.extractors.sshSession(request.kind), now);
    if (request.command === undefined) return refusal("ssh exec request without a command");
    return this.decideSshFacts(await this.extractors.shell(request.command), now);
  }

  decideSshFacts(facts: SshFacts, now?: Date): Decision {
    const wrong = this.wrongKind("ssh");
    if (wrong !== undefined) return wrong;
    if (facts.error !== undefined) return refusal(`shell command does not parse: ${facts.error}`);
    setTime(this.record, now);
    setSsh(this.record, facts);
    return decideRequest(this.table, this.record, this.connection);
  }

  decideK8s(request: K8sFacts, now?: Date): Decision {
    const wrong = this.wrongKind("kubernetes");
    if (wrong !== undefined) return wrong;
    setTime(this.record, now);
    setK8s(this.record, request);
    return decideRequest(this.table, this.record, this.connection);
  }

  private wrongKind(kind: ConnectionKind): Decision | undefined {
    if (this.table.kind === kind) return undefined;
    return refusal(`connection ${this.connection} is ${this.table.kind}, not ${kind}`);
  }
}

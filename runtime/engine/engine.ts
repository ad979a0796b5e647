// The decision engine over one validated bundle: conditions are compiled once here; sessions
// pick their applicable policies and share merged tables memoized by policy set.

import type { Bundle } from "../bundle/format.js";
import { validateBundle } from "../bundle/validate.js";
import type { Identity } from "../facts/types.js";
import type { FactExtractors } from "./extractors.js";
import { sessionRecord } from "./facts-record.js";
import { GroupMatcher } from "./groups.js";
import { mergeLimits } from "./limits.js";
import { compileMask, resolveMasks, type CompiledMask } from "./masks.js";
import { compileRule, mergeRuleTable, type CompiledRule, type RuleTable } from "./rule-table.js";
import { EngineSession } from "./session.js";
import { AttributeSlots } from "./slots.js";
import type { SessionLimits, SessionResult } from "./types.js";

/** SessionResult, with the engine's own session type (for callers that hold facts already). */
export type OpenSessionResult = Exclude<SessionResult, { ok: true }> | { ok: true; session: EngineSession };

interface Merged {
  table: RuleTable;
  limits: SessionLimits;
}

/** spacing of rule order numbers between policies (more rules than this in one policy is refused at load) */
const RULES_PER_POLICY = 1_000_000;

/** Distinct policy sets are few in practice; the cap only bounds a pathological bundle. */
const MAX_MERGED = 1024;

export class Engine {
  readonly bundle: Bundle;
  private readonly groups: GroupMatcher;
  private readonly rules: readonly (readonly CompiledRule[])[];
  private readonly masks: readonly (readonly CompiledMask[])[];
  private readonly merged = new Map<string, Merged>();
  private readonly slots = new AttributeSlots();

  /** Validates `json` (throws naming the first problem); prefer `loadEngine`, which wires the real extractors. */
  constructor(json: unknown, private readonly extractors: FactExtractors) {
    this.bundle = validateBundle(json);
    const crowded = this.bundle.policies.find((p) => p.rules.length >= RULES_PER_POLICY);
    if (crowded) throw new Error(`policy ${crowded.name} has ${crowded.rules.length} rules; at most ${RULES_PER_POLICY - 1} are supported`);
    this.groups = new GroupMatcher(this.bundle, this.slots);
    this.rules = this.bundle.policies.map((p, i) => p.rules.map((r, j) => compileRule(r, i * RULES_PER_POLICY + j, this.slots)));
    this.masks = this.bundle.policies.map((p) => p.masks.map((m) => compileMask(m, this.slots)));
  }

  groupsOf(identity: Identity): string[] {
    return this.groups.groupsOf(identity);
  }

  openSession(identity: Identity, connection: string): OpenSessionResult {
    const target = Object.hasOwn(this.bundle.connections, connection) ? this.bundle.connections[connection] : undefined;
    if (target === undefined) return { ok: false, reason: `unknown connection "${connection}"` };
    const groups = this.groupsOf(identity);
    const applicable = (this.bundle.byConnection[connection] ?? [])
      .filter((p) => this.bundle.policies[p]!.subjects.some((g) => groups.includes(g)))
      .sort((a, b) => a - b);
    if (applicable.length === 0) {
      const member = groups.length === 0 ? "in no group" : `in groups ${groups.join(", ")}`;
      return {
        ok: false,
        reason: `no policy lets ${identity.subject} (${identity.issuer}, ${member}) use connection ${connection}`,
      };
    }
    const key = `${target.kind}:${applicable.join(",")}`;
    let merged = this.merged.get(key);
    if (merged === undefined) {
      if (this.merged.size >= MAX_MERGED) this.merged.clear();
      merged = {
        table: mergeRuleTable(this.bundle, this.rules, applicable, target.kind),
        limits: mergeLimits(applicable.map((p) => this.bundle.policies[p]!)),
      };
      this.merged.set(key, merged);
    }
    const record = sessionRecord(identity, groups, connection, target, this.slots);
    const session = new EngineSession(
      {
        connection,
        groups,
        policies: applicable.map((p) => this.bundle.policies[p]!.name),
        masks: resolveMasks(applicable.flatMap((p) => this.masks[p]!), record),
        limits: { ...merged.limits },
        table: merged.table,
        record,
      },
      this.extractors,
    );
    return { ok: true, session };
  }
}

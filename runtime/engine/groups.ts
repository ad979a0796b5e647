// Group predicates (DESIGN.md §2): an identity is in a group when its token's issuer is the
// group's issuer and the group's `when` holds over its identity and claims.

import type { Bundle } from "../bundle/format.js";
import type { Identity } from "../facts/types.js";
import { compileCond, type Predicate } from "./cond.js";
import { identityRecord } from "./facts-record.js";
import type { AttributeSlots } from "./slots.js";

interface CompiledGroup {
  readonly name: string;
  readonly issuer: string;
  readonly when: Predicate;
}

export class GroupMatcher {
  private readonly groups: readonly CompiledGroup[];

  constructor(
    bundle: Bundle,
    private readonly slots: AttributeSlots,
  ) {
    this.groups = Object.keys(bundle.groups)
      .sort()
      .map((name) => {
        const group = bundle.groups[name]!;
        return { name, issuer: group.issuer, when: compileCond(group.when, slots) };
      });
  }

  /** Sorted names of the declared groups the identity is in. */
  groupsOf(identity: Identity): string[] {
    const record = identityRecord(identity, this.slots);
    return this.groups.filter((g) => g.issuer === identity.issuer && g.when(record)).map((g) => g.name);
  }
}

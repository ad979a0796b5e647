// Attribute names resolved to array slots when conditions are compiled, so a leaf reads
// `record[slot]` (a packed-array load) instead of hashing `sql.command` per decision. The
// vocabulary takes the first slots in ATTRIBUTES order; each claim a condition names gets the
// next free one. Claims no condition reads are never copied into a record.

import { ATTRIBUTES, CLAIMS_PREFIX } from "../schema/attributes.js";

/** The flat attribute record: attribute values by slot; sets are arrays, missing is undefined. */
export type AttributeRecord = unknown[];

const VOCABULARY = new Map(ATTRIBUTES.map((a, i) => [a.name, i]));

/** Slot of a vocabulary attribute (fixed for every engine). */
export function vocabularySlot(name: string): number {
  const slot = VOCABULARY.get(name);
  if (slot === undefined) throw new Error(`not a vocabulary attribute: ${name}`);
  return slot;
}

export class AttributeSlots {
  private readonly claims = new Map<string, number>();

  slotOf(name: string): number {
    const fixed = VOCABULARY.get(name);
    if (fixed !== undefined) return fixed;
    if (!name.startsWith(CLAIMS_PREFIX)) throw new Error(`unknown attribute ${name}`);
    let slot = this.claims.get(name);
    if (slot === undefined) {
      slot = VOCABULARY.size + this.claims.size;
      this.claims.set(name, slot);
    }
    return slot;
  }

  /** A record with every attribute missing. */
  emptyRecord(): AttributeRecord {
    return new Array<unknown>(VOCABULARY.size + this.claims.size).fill(undefined);
  }

  /** `claims.NAME` → slot, for every claim some condition reads. */
  claimSlots(): ReadonlyMap<string, number> {
    return this.claims;
  }
}

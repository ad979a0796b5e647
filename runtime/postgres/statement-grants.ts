// What a Bind of a prepared statement name may run, as far as refusals and approvals go. The
// server keeps the statement a name already has when a Parse of that name fails (a named Parse
// of a name in use fails; any Parse after an error is skipped up to Sync), so a Parse the gate
// forwards replaces nothing until the server confirms it (ParseComplete):
//
// - refused: the name's latest Parse was refused; the server may still hold an older statement
//   under it, which a Bind must not run.
// - approved: an approval released the name's Parse, for one execution: its first Bind uses it.
// - spent: that execution was bound; a later Bind of the name is refused.
//
// Within an extended-protocol batch, a Bind after a forwarded Parse of the same name binds that
// Parse's statement or is skipped with it (a failed Parse takes the rest of the batch along), so
// there the Parse counts at once; after the batch's Sync only the server's confirmation clears
// what the name had. An approval counts from the moment its Parse is forwarded: should that Parse
// fail, the approval is used by whatever the name then binds, never by more than one execution.

import { errorResponse } from "./messages.js";
import { MAX_NAMES, tooMuch } from "./name-limits.js";

type Grant =
  | { kind: "refused"; error: Buffer; since: number }
  | { kind: "approved"; approval: string; since: number }
  | { kind: "spent"; error: Buffer; since: number };

/** What a Bind of a name does: forward it as sent, refuse it with `error`, or use `approval`. */
export type BindGrant = { kind: "plain" } | { kind: "refused"; error: Buffer } | { kind: "approved"; approval: string };

export class StatementGrants {
  private readonly grants = new Map<string, Grant>();
  /** names of plain Parses forwarded since the last Sync: a Bind of one binds that Parse's statement (or is skipped) */
  private readonly parsedInBatch = new Set<string>();
  /** orders Parses: a confirmation clears only what an earlier Parse left */
  private sequence = 0;

  /**
   * A Parse of `name` forwarded (released by `approval`, if any); returns what to call when the
   * server confirms it — nothing when no name has a grant: any grant made later is newer than it.
   */
  parsed(name: string, approval?: string): (() => void) | undefined {
    if (approval === undefined && this.grants.size === 0) return undefined;
    const since = ++this.sequence;
    if (approval !== undefined) {
      this.grants.set(name, { kind: "approved", approval, since });
      this.parsedInBatch.delete(name);
    } else {
      this.parsedInBatch.add(name);
    }
    return () => {
      const grant = this.grants.get(name);
      if (grant !== undefined && grant.since < since) this.grants.delete(name);
    };
  }

  /** A Parse of `name` refused: the sentinel sent instead fails, so whatever the server held under the name stays. */
  refused(name: string, error: Buffer): void {
    if (this.grants.size >= MAX_NAMES && !this.grants.has(name)) throw tooMuch(`more than ${MAX_NAMES} prepared statement names refused or approved`);
    this.grants.set(name, { kind: "refused", error, since: ++this.sequence });
    this.parsedInBatch.delete(name);
  }

  /** A Bind of `name`: an approved name's first Bind uses the approval and spends it. */
  bind(name: string): BindGrant {
    if (this.grants.size === 0 || this.parsedInBatch.has(name)) return PLAIN;
    const grant = this.grants.get(name);
    if (grant === undefined) return PLAIN;
    if (grant.kind !== "approved") return { kind: "refused", error: grant.error };
    const message = `approval request ${grant.approval} was used by this statement's first execution: parse it again to ask anew`;
    this.grants.set(name, { kind: "spent", error: errorResponse({ severity: "ERROR", code: "42501", message }), since: grant.since });
    return { kind: "approved", approval: grant.approval };
  }

  /**
   * Why SQL EXECUTE of `name` must not run, if so: what the server holds under it is not what the
   * gateway let run (refused), was released for one Bind (approved), or has run (spent).
   */
  executeRefusal(name: string): string | undefined {
    const grant = this.grants.size === 0 ? undefined : this.grants.get(name);
    switch (grant?.kind) {
      case undefined:
        return undefined;
      case "refused":
        return `prepared statement "${name}" is not what the gateway let run (its latest Parse was refused): parse it again`;
      case "approved":
        return `prepared statement "${name}" was released by approval request ${grant.approval} for one execution through the protocol (Bind): SQL EXECUTE cannot run it`;
      case "spent":
        return `prepared statement "${name}" ran once on its approval: parse it again to ask anew`;
    }
  }

  synced(): void {
    if (this.parsedInBatch.size > 0) this.parsedInBatch.clear();
  }
}

const PLAIN: BindGrant = { kind: "plain" };

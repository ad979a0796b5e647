// Client → server: decide every statement before the upstream sees it. A simple Query is decided
// whole; in the extended protocol the decision is taken at Parse and the statement name carries
// it to Bind and Execute.
//
// A refused statement is replaced by a sentinel that fails in the upstream's parser (a syntax
// error: no side effects, no permissions needed). The upstream then does exactly what it does
// for any failing statement: aborts an open transaction, skips the rest of the extended-protocol
// batch up to Sync, and answers ReadyForQuery. The result rewriter swaps the sentinel's error
// for the gateway's own 42501, so the client sees one error in the right place and the session
// and transaction state stay the server's, never a guess.

import { randomBytes } from "node:crypto";
import { serialize } from "pg-protocol";
import type { Decision, SessionPolicy } from "../engine/types.js";
import type { ExpectationQueue, StatementInfo } from "./expectations.js";
import { errorResponse, readCString } from "./messages.js";

export interface GateOutcome {
  /** messages to send upstream, in order */
  forward: Buffer[];
  /** a statement was refused: for the audit record */
  refused?: { info: StatementInfo };
}

export class QueryGate {
  /** the identifier the upstream's syntax error quotes back: only this session knows it */
  readonly marker = `hoopgate_denied_${randomBytes(8).toString("hex")}`;
  private readonly statements = new Map<string, StatementInfo>();
  private readonly portals = new Map<string, StatementInfo | null>();
  private readonly describedPortals = new Set<string>();
  private readonly maskedTables: ReadonlySet<string>;
  private readonly masking: boolean;

  constructor(private readonly policy: SessionPolicy, private readonly queue: ExpectationQueue) {
    this.maskedTables = maskedTableNames(policy.masks.columns.keys());
    this.masking = policy.masks.columns.size > 0 || policy.masks.detectors.size > 0;
  }

  /** bare names of the tables that have masked columns */
  get tablesWithMasks(): ReadonlySet<string> {
    return this.maskedTables;
  }

  handle(type: number, frame: Buffer): GateOutcome {
    switch (String.fromCharCode(type)) {
      case "Q":
        return this.query(readCString(frame, 5).value, frame);
      case "P":
        return this.parse(frame);
      case "B": {
        const portal = readCString(frame, 5);
        const statement = readCString(frame, portal.next).value;
        this.portals.set(portal.value, this.statements.get(statement) ?? null);
        this.describedPortals.delete(portal.value);
        this.queue.push({ kind: "bind", portal: portal.value });
        return { forward: [frame] };
      }
      case "D": {
        const target = frame[5] === 0x53 ? "S" : "P";
        const name = readCString(frame, 6).value;
        if (target === "P") this.describedPortals.add(name);
        this.queue.push({ kind: "describe", target, name, info: (target === "S" ? this.statements.get(name) : this.portals.get(name)) ?? null, swallow: false });
        return { forward: [frame] };
      }
      case "E":
        return this.execute(frame);
      case "C":
        this.queue.push({ kind: "close" });
        return { forward: [frame] };
      case "S":
        this.queue.push({ kind: "sync" });
        return { forward: [frame] };
      case "F":
        return this.refuseWhole("fastpath function calls are not allowed through the gateway");
      default:
        // Flush, Terminate and the COPY FROM STDIN stream need no decision.
        return { forward: [frame] };
    }
  }

  private query(text: string, frame: Buffer): GateOutcome {
    const info = this.decide(text);
    const denied = this.refusal(info.decision);
    this.queue.push({ kind: "query", info, denied, started: Date.now() });
    if (denied === null) return { forward: [frame] };
    return { forward: [serialize.query(this.marker)], refused: { info } };
  }

  private parse(frame: Buffer): GateOutcome {
    const name = readCString(frame, 5);
    const text = readCString(frame, name.next).value;
    const info = this.decide(text);
    const denied = this.refusal(info.decision);
    this.queue.push({ kind: "parse", denied });
    if (denied === null) {
      this.statements.set(name.value, info);
      return { forward: [frame] };
    }
    this.statements.delete(name.value);
    return { forward: [serialize.parse({ name: name.value, text: this.marker })], refused: { info } };
  }

  private execute(frame: Buffer): GateOutcome {
    const portal = readCString(frame, 5).value;
    const forward: Buffer[] = [];
    // Masking needs the portal's row description (its result formats); ask for it when the client did not.
    if (this.masking && !this.describedPortals.has(portal)) {
      this.describedPortals.add(portal);
      this.queue.push({ kind: "describe", target: "P", name: portal, info: this.portals.get(portal) ?? null, swallow: true });
      forward.push(serialize.describe({ type: "P", name: portal }));
    }
    this.queue.push({ kind: "execute", portal, info: this.portals.get(portal) ?? null, started: Date.now() });
    forward.push(frame);
    return { forward };
  }

  private refuseWhole(reason: string): GateOutcome {
    const decision: Decision = { effect: "deny", reason, rules: [], approvers: [], statements: [] };
    const info: StatementInfo = { text: "", decision, tables: [] };
    this.queue.push({ kind: "query", info, denied: this.refusal(decision), started: Date.now() });
    return { forward: [serialize.query(this.marker)], refused: { info } };
  }

  private decide(text: string): StatementInfo {
    let decision = this.policy.decideSql(text);
    const tables = [...new Set(decision.statements.flatMap((s) => s.tables))];
    if (decision.effect === "allow") decision = this.denyMaskedCopy(decision);
    return { text, decision, tables };
  }

  /** COPY carries no column provenance, so COPY of a table with masked columns could not be masked reliably. */
  private denyMaskedCopy(decision: Decision): Decision {
    for (const statement of decision.statements) {
      if (statement.command !== "copy") continue;
      const masked = statement.tables.find((t) => this.maskedTables.has(bareName(t)));
      if (masked !== undefined) {
        return {
          ...decision,
          effect: "deny",
          reason: `COPY of "${masked}" is not allowed: it has masked columns (use SELECT, which is masked)`,
        };
      }
    }
    return decision;
  }

  private refusal(decision: Decision): Buffer | null {
    if (decision.effect === "allow") return null;
    const rules = decision.rules.length > 0 ? `rule: ${decision.rules.join(", ")}` : undefined;
    if (decision.effect === "review") {
      return errorResponse({
        severity: "ERROR",
        code: "42501",
        message: `approval required (approvers: ${decision.approvers.join(", ")}): ${decision.reason}`,
        detail: rules,
        hint: "this gateway cannot hold statements for approval yet",
      });
    }
    return errorResponse({ severity: "ERROR", code: "42501", message: `statement denied: ${decision.reason}`, detail: rules });
  }
}

export function bareName(name: string): string {
  const dot = name.lastIndexOf(".");
  return (dot < 0 ? name : name.slice(dot + 1)).toLowerCase();
}

function maskedTableNames(keys: Iterable<string>): ReadonlySet<string> {
  const names = new Set<string>();
  for (const key of keys) {
    const parts = key.split(".");
    if (parts.length >= 2) names.add(parts[parts.length - 2]!.toLowerCase());
  }
  return names;
}

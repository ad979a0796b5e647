// Client → server: decide every statement before the upstream sees it. A simple Query is decided
// whole; in the extended protocol the decision is taken at Parse. Which statement a name stands
// for is the result rewriter's to know, from the server's answers (ParseComplete, BindComplete,
// CloseComplete, errors) in the server's order: the gate only passes the names on.
//
// A `review` statement is held when the gateway can hold statements: the gate returns it
// untouched (nothing queued, nothing forwarded) and the session, once the approval is decided,
// calls release() — which forwards it as approved or refuses it like a denial.
//
// A refused statement is replaced by a sentinel that fails in the upstream's parser (a syntax
// error: no side effects, no permissions needed). The upstream then does exactly what it does
// for any failing statement: aborts an open transaction, skips the rest of the extended-protocol
// batch up to Sync, and answers ReadyForQuery. The result rewriter swaps the sentinel's error
// for the gateway's own 42501, so the client sees one error in the right place and the session
// and transaction state stay the server's, never a guess.

import { randomBytes } from "node:crypto";
import { serialize } from "pg-protocol";
import type { Decision, SessionPolicy, StatementDecision } from "../engine/types.js";
import type { ApprovalVerdict, ProxyMetrics } from "./context.js";
import type { ExpectationQueue, StatementInfo } from "./expectations.js";
import { copyOutLayout } from "./copy-format.js";
import { errorResponse, readCString, skipCString } from "./messages.js";
import { lexerSensitivity, mayRunCode, parameterTypesMayRunCode, UnnamedStatements } from "./pipeline-barrier.js";
import { checkName, MAX_NAMES } from "./name-limits.js";
import { StatementGrants } from "./statement-grants.js";
import { bareName, statementNames } from "./statement-names.js";
import { maskedColumnsByTable, refusalByName, type MaskedColumns } from "./masks/mask-refusals.js";

export interface GateOutcome {
  /** messages to send upstream, in order */
  forward: Buffer[];
  /** a statement was refused: for the audit record */
  refused?: { info: StatementInfo; error?: string; approval?: string };
  /** a statement to hold until the catalog judged what it stores and its approval is decided; nothing else was done with it */
  hold?: HeldMessage;
}

/** A Query or Parse waiting for the catalog (`info.maskCheck`) or for approval; proceed() or release() ends the wait. */
export interface HeldMessage {
  type: "Q" | "P";
  frame: Buffer;
  info: StatementInfo;
}

export class QueryGate {
  /** the identifier the upstream's syntax error quotes back: only this session knows it */
  readonly marker = `hoopgate_denied_${randomBytes(8).toString("hex")}`;
  /**
   * Portals described since they were bound, with nothing run since that could have replaced
   * them (a Query, an Execute of another portal): the rewriter has their row plans.
   */
  private readonly describedPortals = new Set<string>();
  /** what a Bind of each prepared statement name may run: refused Parses and approvals (statement-grants.ts) */
  private readonly grants = new StatementGrants();
  /**
   * Portals bound from a named statement an approval released, with its name: after their one
   * Execute the gateway closes the statement on the server (SQL `EXECUTE name`, or code running
   * it, would run it again otherwise).
   */
  private readonly approvedPortals = new Map<string, string>();
  /**
   * Named portals bound through the protocol, with how many Syncs and Queries were sent before
   * their Bind: SQL FETCH and MOVE share their namespace, and would run a portal's statement with
   * only the FETCH recorded. A portal lives until the server confirms the client's Close of it
   * (portalClosed: a Close after an error is skipped) or its transaction ends (transactionEnded).
   * Past MAX_NAMES no more are told apart: every FETCH and MOVE is refused.
   */
  private readonly boundPortals = new Map<string, { since: number; bind: number }>();
  /** Binds of named portals sent: a CloseComplete frees a name only if no Bind made it anew since the Close */
  private binds = 0;
  /** Syncs and Queries sent: the ReadyForQuery answering the n-th ends the portals bound before it when it says idle */
  private synced = 0;
  /** what the unnamed statement and portal may run, for the pipeline barrier */
  private readonly unnamed = new UnnamedStatements();
  private readonly maskedColumns: MaskedColumns;
  private readonly masking: boolean;
  private readonly detecting: boolean;

  /** canHold: review statements are held for approval instead of refused */
  constructor(
    private readonly policy: SessionPolicy,
    private readonly queue: ExpectationQueue,
    private readonly canHold: boolean,
    private readonly metrics?: ProxyMetrics,
    /** the catalog's cached verdict on what a statement stores or changes (ColumnMasks.knownCatalogRefusal); undefined: ask */
    private readonly knownMaskCheck?: (info: StatementInfo) => string | null | undefined,
  ) {
    this.maskedColumns = maskedColumnsByTable(policy.masks.columns.keys());
    this.masking = policy.masks.columns.size > 0 || policy.masks.detectors.size > 0;
    this.detecting = policy.masks.detectors.size > 0;
  }

  handle(type: number, frame: Buffer): GateOutcome {
    switch (String.fromCharCode(type)) {
      case "Q":
        return this.query(frame);
      case "P":
        return this.parse(frame);
      case "B":
        return this.bind(frame);
      case "D": {
        const target = frame[5] === 0x53 ? "S" : "P";
        const name = readCString(frame, 6).value;
        checkName(name);
        if (target === "P") this.describe(name);
        this.queue.push({ kind: "describe", target, name, swallow: false });
        return { forward: [frame] };
      }
      case "E":
        return this.execute(frame);
      case "C": {
        const target = frame[5] === 0x53 ? "S" : "P";
        const name = readCString(frame, 6).value;
        checkName(name);
        if (target === "P") this.describedPortals.delete(name);
        const bound = target === "P" && this.boundPortals.size > 0 ? this.boundPortals.get(name) : undefined;
        this.queue.push(bound === undefined ? { kind: "close", target, name } : { kind: "close", target, name, bind: bound.bind });
        return { forward: [frame] };
      }
      case "S":
        // A Sync inside a COPY FROM STDIN's data is ignored by a server still copying, and answered
        // by one whose COPY already failed on that data: which, the gateway cannot tell, so the
        // server does not get it (it needs none: the Sync after CopyDone ends the batch).
        if (this.queue.inCopyData) return { forward: [] };
        this.unnamed.synced();
        this.grants.synced();
        this.queue.push({ kind: "sync", seq: this.sequence() });
        return { forward: [frame] };
      case "F":
        return this.refuseWhole("fastpath function calls are not allowed through the gateway");
      case "d":
        this.queue.copyData();
        return { forward: [frame] };
      case "c":
      case "f":
        this.queue.copyEnded();
        return { forward: [frame] };
      default:
        // Flush and Terminate need no decision.
        return { forward: [frame] };
    }
  }

  /** the held statement's fate: forwarded as approved, or refused with the verdict's reason */
  release(held: HeldMessage, verdict: ApprovalVerdict, requestId: string): GateOutcome {
    if (verdict.outcome === "approved") {
      const info: StatementInfo = { ...held.info, approval: requestId };
      return held.type === "Q" ? this.forwardQuery(info, held.frame) : this.forwardParse(info, held.frame);
    }
    const outcome = this.refuseHeld(held, verdictError(verdict, requestId));
    return { ...outcome, refused: { ...outcome.refused!, approval: requestId } };
  }

  /** A held statement goes on as decided: forwarded when allowed, refused otherwise (a review with no approvals service too). */
  proceed(held: HeldMessage): GateOutcome {
    const denied = this.refusal(held.info.decision);
    if (held.type === "Q") return denied === null ? this.forwardQuery(held.info, held.frame) : this.refuseQuery(held.info, denied);
    return denied === null ? this.forwardParse(held.info, held.frame) : this.refuseParse(held.info, held.frame, denied);
  }

  /** the held statement is not run: its approval could not be recorded (fail closed), or the client canceled it */
  refuseHeld(held: HeldMessage, message: string, code: "42501" | "57014" = "42501"): GateOutcome {
    const denied = errorResponse({ severity: "ERROR", code, message, detail: ruleDetail(held.info.decision) });
    return held.type === "Q" ? this.refuseQuery(held.info, denied, message) : this.refuseParse(held.info, held.frame, denied, message);
  }

  private query(frame: Buffer): GateOutcome {
    // a Query replaces the unnamed portal and may DECLARE or CLOSE cursors, or run code that does:
    // every portal is described again before its next Execute
    if (this.describedPortals.size > 0) this.describedPortals.clear();
    const end = skipCString(frame, 5);
    const text = frame.toString("utf8", 5, end - 1);
    const barred = this.barrier(frame, 5, end, text);
    if (barred !== undefined) return this.refuseQuery(barred.info, barred.denied);
    const held: HeldMessage = { type: "Q", frame, info: this.decide(text) };
    return this.mustWait(held.info) ? { forward: [], hold: held } : this.proceed(held);
  }

  /** the catalog has to judge what the statement reaches, or it waits for approval */
  private mustWait(info: StatementInfo): boolean {
    if (info.decision.effect === "deny") return false;
    return info.maskCheck === true || (this.canHold && info.decision.effect === "review");
  }

  private forwardQuery(info: StatementInfo, frame: Buffer): GateOutcome {
    if (mayRunCode(info)) this.queue.codeMayRun();
    this.unnamed.query();
    this.queue.push({ kind: "query", info, denied: null, started: Date.now(), seq: this.sequence() });
    return { forward: [frame] };
  }

  private refuseQuery(info: StatementInfo, denied: Buffer, error?: string): GateOutcome {
    this.queue.push({ kind: "query", info, denied, started: Date.now(), seq: this.sequence() });
    return { forward: [serialize.query(this.marker)], refused: error === undefined ? { info } : { info, error } };
  }

  private parse(frame: Buffer): GateOutcome {
    const name = readCString(frame, 5);
    checkName(name.value);
    const start = name.next;
    const end = skipCString(frame, start);
    const text = frame.toString("utf8", start, end - 1);
    const barred = this.barrier(frame, start, end, text);
    if (barred !== undefined) return this.refuseParse(barred.info, frame, barred.denied);
    const held: HeldMessage = { type: "P", frame, info: this.decide(text) };
    return this.mustWait(held.info) ? { forward: [], hold: held } : this.proceed(held);
  }

  private forwardParse(info: StatementInfo, frame: Buffer): GateOutcome {
    const name = readCString(frame, 5).value;
    const confirmed = this.grants.parsed(name, info.approval);
    this.unnamed.parsed(name, info, name === "" && parameterTypesMayRunCode(frame));
    this.queue.push({ kind: "parse", name, info, denied: null, confirmed });
    return { forward: [frame] };
  }

  /** The sentinel fails in the server's parser: no statement of that name is stored (an older one stays). */
  private refuseParse(info: StatementInfo, frame: Buffer, denied: Buffer, error?: string): GateOutcome {
    const name = readCString(frame, 5).value;
    this.grants.refused(name, denied);
    this.queue.push({ kind: "parse", name, info: null, denied });
    return { forward: [serialize.parse({ name, text: this.marker })], refused: error === undefined ? { info } : { info, error } };
  }

  /**
   * A Bind of a statement whose latest Parse was refused, or whose approval was used, names the
   * sentinel instead, which no statement has: the server fails it (and skips the rest of the
   * batch), the rewriter swaps its error for the refusal. Otherwise the server would bind an
   * older statement of that name, or run the approved one again.
   */
  private bind(frame: Buffer): GateOutcome {
    const portal = readCString(frame, 5);
    const statement = readCString(frame, portal.next).value;
    checkName(portal.value);
    checkName(statement);
    this.describedPortals.delete(portal.value);
    if (portal.value !== "" && this.boundPortals.size <= MAX_NAMES) this.boundPortals.set(portal.value, { since: this.synced, bind: ++this.binds });
    const grant = this.grants.bind(statement);
    const refused = grant.kind === "refused" ? grant.error : null;
    if (grant.kind === "approved" && statement !== "") this.approvedPortals.set(portal.value, statement);
    else if (this.approvedPortals.size > 0) this.approvedPortals.delete(portal.value);
    if (this.unnamed.bound(portal.value, statement, refused !== null)) this.queue.codeMayRun();
    this.queue.push({ kind: "bind", portal: portal.value, statement, denied: refused });
    if (refused !== null) return { forward: [serialize.bind({ portal: portal.value, statement: this.marker })] };
    return { forward: [frame] };
  }

  private execute(frame: Buffer): GateOutcome {
    const portal = readCString(frame, 5).value;
    checkName(portal);
    const forward: Buffer[] = [];
    if (this.masking) {
      const described = this.describedPortals.has(portal);
      // What this Execute runs may close and open other portals (CLOSE, DECLARE, opaque code):
      // they are described again before they run.
      if (this.describedPortals.size > (described ? 1 : 0)) {
        this.describedPortals.clear();
        this.describedPortals.add(portal);
      }
      // Masking needs the portal's row description (its result formats); ask for it when the client did not.
      if (!described) {
        this.describe(portal);
        this.queue.push({ kind: "describe", target: "P", name: portal, swallow: true });
        forward.push(serialize.describe({ type: "P", name: portal }));
      }
    }
    if (this.unnamed.executes(portal)) this.queue.codeMayRun();
    this.queue.push({ kind: "execute", portal, started: Date.now() });
    forward.push(frame);
    const spent = this.approvedPortals.size > 0 ? this.approvedPortals.get(portal) : undefined;
    if (spent !== undefined) {
      // closing the statement closes this portal too: one Execute, the approval's one execution
      this.approvedPortals.delete(portal);
      this.queue.push({ kind: "close", target: "S", name: spent, swallow: true });
      forward.push(serialize.close({ type: "S", name: spent }));
    }
    return { forward };
  }

  /** a Sync or Query is sent: its number, which its ReadyForQuery reports back, while any named portal is bound */
  private sequence(): number | undefined {
    this.synced += 1;
    return this.boundPortals.size > 0 ? this.synced : undefined;
  }

  /** The ReadyForQuery answering the `seq`-th Sync or Query said idle: the portals bound before it are gone. */
  transactionEnded(seq: number): void {
    for (const [name, { since }] of this.boundPortals) if (since < seq) this.boundPortals.delete(name);
  }

  /** The server confirmed a Close of portal `name` sent after its Bind numbered `bind`. */
  portalClosed(name: string, bind: number): void {
    if (this.boundPortals.get(name)?.bind === bind) this.boundPortals.delete(name);
  }

  /** the portal's row description is asked for; forgetting which were (past MAX_NAMES) only makes the gateway ask again */
  private describe(portal: string): void {
    if (this.describedPortals.size >= MAX_NAMES) this.describedPortals.clear();
    this.describedPortals.add(portal);
  }

  private refuseWhole(reason: string): GateOutcome {
    const decision: Decision = { effect: "deny", reason, rules: [], approvers: [], statements: [] };
    const info: StatementInfo = { text: "", decision };
    this.queue.push({ kind: "query", info, denied: this.refusal(decision), started: Date.now(), seq: this.sequence() });
    return { forward: [serialize.query(this.marker)], refused: { info } };
  }

  /**
   * The pipeline barrier (pipeline-barrier.ts): a text that would lex differently under another
   * standard_conforming_strings or client_encoding, sent while code that may have changed one
   * has not been reported on yet, is refused before it is decided. Cheap when nothing is
   * outstanding (a flag), and otherwise a byte scan; the lexer runs only on texts with a backslash.
   */
  private barrier(frame: Buffer, start: number, end: number, text: string): { info: StatementInfo; denied: Buffer } | undefined {
    if (!this.queue.settingsUnreported) return undefined;
    const why = lexerSensitivity(frame.subarray(start, end - 1), () => text);
    if (why === undefined) return undefined;
    const reason = `this text cannot be sent while an earlier statement that may run code is unanswered: ${why}, and that code may have changed the setting before the server reads this text; send it after the earlier results (their ReadyForQuery)`;
    const decision: Decision = { effect: "deny", reason, rules: [], approvers: [], statements: [] };
    return { info: { text, decision }, denied: this.refusal(decision)! };
  }

  private decide(text: string): StatementInfo {
    const started = this.metrics === undefined ? 0 : performance.now();
    const decision = this.policy.decideSql(text);
    const info: StatementInfo = { text, decision };
    // an approval is for one execution; EXECUTE of a prepared statement would run it again unasked
    if (decision.effect === "review" && decision.statements.some(preparesStatement)) {
      info.decision = { ...decision, effect: "deny", reason: `${decision.reason}: a statement that needs approval cannot be prepared for later (each EXECUTE would run it again without asking); run it directly` };
    }
    // EXECUTE of a name whose latest Parse was refused runs an older statement; of one an approval released, runs it unasked
    if (info.decision.effect !== "deny") {
      for (const name of statementNames(decision, "executes")) {
        const why = this.grants.executeRefusal(name);
        if (why === undefined) continue;
        info.decision = { ...decision, effect: "deny", reason: why };
        break;
      }
    }
    if (info.decision.effect !== "deny" && this.boundPortals.size > 0) {
      const overflow = this.boundPortals.size > MAX_NAMES;
      const name = statementNames(decision, "fetches").find((n) => overflow || this.boundPortals.has(n));
      if (name !== undefined) {
        const why = overflow ? `this session bound more than ${MAX_NAMES} named portals through the protocol, and cursor "${name}" may be one` : `cursor "${name}" is a portal bound through the protocol`;
        info.decision = { ...decision, effect: "deny", reason: `${why}: run it with Execute, not SQL FETCH or MOVE (the gateway records a portal's statement at its Execute)` };
      }
    }
    // a statement held for review runs once approved: its COPY is checked before anyone is asked
    if (info.decision.effect !== "deny") this.checkCopy(info);
    if (this.maskedColumns.size > 0 && info.decision.effect !== "deny") this.checkColumnMasks(info);
    this.metrics?.decided(info.decision.effect, (performance.now() - started) / 1e3);
    return info;
  }

  /** What column masks cannot follow (mask-refusals.ts): refused here by name, or left for the catalog to judge before the statement runs. */
  private checkColumnMasks(info: StatementInfo): void {
    const verdict = refusalByName(info.decision.statements, this.maskedColumns);
    if (verdict.kind === "refuse") info.decision = { ...info.decision, effect: "deny", reason: verdict.reason };
    else if (verdict.kind === "ask") {
      const known = this.knownMaskCheck?.(info);
      if (known === undefined) info.maskCheck = true;
      else if (known !== null) info.decision = { ...info.decision, effect: "deny", reason: known };
    }
  }

  /**
   * COPY carries no column provenance, so COPY of a table with masked columns could not be
   * masked reliably; detectors read COPY output only in a layout they can split into fields,
   * read here once for the rewriter. Denies `info` in place when either stands in the way.
   */
  private checkCopy(info: StatementInfo): void {
    const deny = (reason: string): void => {
      info.decision = { ...info.decision, effect: "deny", reason };
    };
    for (const statement of info.decision.statements) {
      if (statement.command !== "copy") continue;
      if (this.detecting && statement.copy === "to_stdout" && info.copyFormat === undefined) {
        const layout = copyOutLayout(info.text);
        if (!layout.ok) return deny(layout.reason);
        info.copyFormat = layout.format;
      }
      const masked = statement.tables.find((t) => this.maskedColumns.has(bareName(t)));
      if (masked !== undefined) return deny(`COPY of "${masked}" is not allowed: it has masked columns (use SELECT, which is masked)`);
    }
  }

  private refusal(decision: Decision): Buffer | null {
    if (decision.effect === "allow") return null;
    const rules = ruleDetail(decision);
    if (decision.effect === "review") {
      return errorResponse({
        severity: "ERROR",
        code: "42501",
        message: `approval required (approvers: ${decision.approvers.join(", ")}): ${decision.reason}`,
        detail: rules,
        hint: "this gateway has no approvals service: statements that need review are refused",
      });
    }
    return errorResponse({ severity: "ERROR", code: "42501", message: `statement denied: ${decision.reason}`, detail: rules });
  }
}

/** PREPARE: the statement stores a named prepared statement (DEALLOCATE names one too; `*`: DO, CALL, DISCARD ALL) */
function preparesStatement(statement: StatementDecision): boolean {
  return statement.sessionNames?.statements.some((name) => name !== "*") === true;
}

function ruleDetail(decision: Decision): string | undefined {
  return decision.rules.length > 0 ? `rule: ${decision.rules.join(", ")}` : undefined;
}

function verdictError(verdict: Exclude<ApprovalVerdict, { outcome: "approved" }>, id: string): string {
  switch (verdict.outcome) {
    case "denied":
      return `statement denied by approver ${verdict.by} (approval request ${id})${verdict.note ? `: ${verdict.note}` : ""}`;
    case "expired":
      return `approval request ${id} expired before anyone approved it: statement not run`;
    case "used":
      return `approval request ${id} was already used by another execution: run the statement again to ask anew`;
  }
}


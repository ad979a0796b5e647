// Server → client: forward the upstream's bytes untouched, except
// - DataRow/CopyData of results that have a mask plan (decoded and rewritten by the masking module),
// - the error of a refused statement's sentinel (swapped for the gateway's 42501),
// - ErrorResponse/NoticeResponse of a masked session (values in them redacted: message-scrub.ts),
// - answers to Describe messages the gateway itself sent (swallowed),
// - ParameterStatus values of a masked session (message-scrub.ts).
// It also keeps which statement each prepared statement and portal name stands for, from the
// server's answers in order: a name is known once ParseComplete/BindComplete confirms it, and
// forgotten when the server refuses or skips the message, on CloseComplete, at the end of a
// transaction (portals), and after a statement that may create, replace or drop names. A name it
// does not know gets the session's strongest mask (docs/masking.md, "Statement and portal names").
// Rows and bytes are counted from message headers for limits and the audit.
// An upstream that breaks the protocol ends the session (FATAL 08P01): in a masked session every
// DataRow is parsed against its RowDescription before it goes out, so a row the gateway cannot
// read, or one outside a described result, never reaches the client.

import type { SessionLimits, SessionMasks } from "../engine/types.js";
import type { CapturedOutput, CopyMaskPlan, RowMaskPlan, RowMasking } from "./context.js";
import type { Expectation, ExpectationQueue, StatementInfo } from "./expectations.js";
import { MaskingError } from "../masking/index.js";
import { BACKEND_TYPES, Framer, FramingError } from "./framing.js";
import { parameterStatusProblem } from "./lexer-guard.js";
import type { ColumnMasks } from "./masks/mask-columns.js";
import { decodeRowDescription } from "./masks/mask-columns.js";
import { decodeFieldList, fieldValue, SessionEnd, type ErrorFields } from "./messages.js";
import { MAX_NAMES, MAX_PREPARED, MAX_PREPARED_TEXT, tooMuch } from "./name-limits.js";
import { encodeFields, parameterValueProblem, scrubFields, scrubMessage, scrubNotification, scrubParameterStatus, valueDetector, type ScrubOptions } from "./masks/message-scrub.js";
import { OutputCapture } from "./output-capture.js";
import { RowPlanCache } from "./masks/row-plan-cache.js";

const D = 0x44; // DataRow
const PORTAL_SUSPENDED = 0x73;
const COPY_DATA = 0x64;
const ERROR = 0x45; // ErrorResponse
const IDLE = 0x49; // ReadyForQuery: not in a transaction
/** ReadyForQuery's transaction status: idle, in a transaction, in a failed one */
const READY_STATUS: ReadonlySet<number | undefined> = new Set([0x49, 0x54, 0x45]);

export interface StatementResult {
  info: StatementInfo;
  rows: number;
  bytes: number;
  durationMs: number;
  error?: string;
  output?: CapturedOutput;
}

export interface RewriterOptions {
  queue: ExpectationQueue;
  /** the sentinel identifier whose syntax error stands for a refused statement */
  marker: string;
  limits: SessionLimits;
  masks: SessionMasks;
  /** null when the session masks nothing */
  columnMasks: ColumnMasks | null;
  masking: RowMasking;
  onStatement(result: StatementResult): void;
  /** a ReadyForQuery said idle, answering the Sync or Query numbered `seq` (QueryGate.transactionEnded) */
  onIdle?(seq: number): void;
  /** the server confirmed the Close of a named portal the gate follows (QueryGate.portalClosed) */
  onPortalClosed?(name: string, bind: number): void;
}

/**
 * What the audit records for an Execute of a portal whose statement the gateway no longer knows
 * (its name was made unknown: re-prepared by a statement or code the gateway cannot follow). The
 * rows were masked with the session's strongest masks; the execution is recorded all the same.
 */
function unknownPortal(portal: string): StatementInfo {
  const reason = `executed portal "${portal}", whose statement the gateway does not know (its name was replaced where it cannot follow)`;
  return { text: `-- portal "${portal}": statement unknown to the gateway`, decision: { effect: "allow", reason, rules: [], approvers: [], statements: [] } };
}

export class ResultRewriter {
  private readonly framer = new Framer({ types: BACKEND_TYPES, maxMessage: 256 * 1024 * 1024, maxStreamed: 1024 * 1024 * 1024 });
  private readonly marker: Buffer;
  private readonly portalPlans = new Map<string, RowMaskPlan | null>();
  /**
   * What the server confirmed each name stands for: a prepared statement (ParseComplete), a portal
   * (BindComplete, from its statement's). Absent or null: not known (null keeps the unnamed
   * statement's and portal's entries in place, which every round of a pgbench-like client reuses).
   */
  private readonly statements = new PreparedStatements();
  private readonly portals = new Map<string, StatementInfo | null>();
  private queryPlan: RowMaskPlan | null = null;
  private copyPlan: CopyMaskPlan | null = null;
  /** between CopyOutResponse and CopyDone */
  private copying = false;
  /** the upstream sent a FATAL error: nothing may follow it */
  private upstreamEnded = false;
  /** the bytes returned so far end at a message boundary (not inside a streamed message) */
  private clientWhole = true;
  private unitRows = 0;
  private unitBytes = 0;
  /** the Query at the head of the queue got its CommandComplete, EmptyQueryResponse or error */
  private queryAnswered = false;
  /**
   * Portals suspended by an Execute's row count, with the rows and bytes their earlier Executes
   * returned: a statement's limits count all of them, not one Execute's.
   */
  private readonly suspended = new Map<string, { rows: number; bytes: number }>();
  private unitError: string | undefined;
  private readonly capture = new OutputCapture();
  private readonly plans = new RowPlanCache();
  private readonly masking: boolean;
  /** null: the session masks nothing, its messages pass undecoded */
  private readonly scrub: ScrubOptions | null;
  sessionRows = 0;
  sessionBytes = 0;

  constructor(private readonly options: RewriterOptions) {
    this.marker = Buffer.from(options.marker);
    this.masking = options.columnMasks !== null || options.masks.detectors.size > 0;
    this.scrub = this.masking ? { columns: options.columnMasks !== null, detect: valueDetector(options.masking, options.masks.detectors) } : null;
    // masked sessions read every DataRow whole; CopyData with nothing to detect streams through
    this.framer.streamable = this.masking
      ? (type) => type === COPY_DATA && this.copying && this.copyPlan === null
      : (type) => type === D || type === COPY_DATA;
  }

  /** true between messages: the gateway may write a message of its own to the client */
  get atBoundary(): boolean {
    return this.framer.atBoundary;
  }

  /**
   * true when what the client received of this stream ends between two messages, so a message
   * of the gateway's own (an error at the end) would not be read as the rest of a cut one
   */
  get clientAtBoundary(): boolean {
    return this.clientWhole;
  }

  /** the error for the upstream closing its connection now: one when it is in the middle of a message */
  closedMidMessage(): ErrorFields | undefined {
    return this.framer.atBoundary ? undefined : invalid("the connection closed in the middle of a message").fields;
  }

  /**
   * One upstream chunk in; what to send the client out (in order). A promise only when a message
   * needs the catalog (a result shape not planned yet, COPY out): the common case stays off the
   * microtask queue.
   */
  process(chunk: Buffer): Buffer[] | Promise<Buffer[]> {
    try {
      this.framer.push(chunk);
      const out = this.drain([]);
      return out instanceof Promise ? out.catch((err: unknown) => Promise.reject(upstreamFailure(err))) : out;
    } catch (err) {
      throw upstreamFailure(err);
    }
  }

  private drain(out: Buffer[]): Buffer[] | Promise<Buffer[]> {
    for (;;) {
      const plan = this.masking ? this.rowPlan() : null;
      if (plan !== null) {
        // the whole rows of a masked result in this chunk, masked together into one buffer
        const rows = this.framer.nextWhole(D, this.rowsLeft());
        if (rows !== null) {
          this.count(rows.messages, rows.bytes.length);
          const masked = plan.maskDataRows(rows.bytes);
          this.capture.run(masked);
          out.push(masked);
          continue;
        }
      }
      const piece = this.framer.next(this.rowsLeft());
      if (piece === null) {
        this.clientWhole = !this.framer.inStreamedMessage;
        return out;
      }
      if (this.upstreamEnded) throw invalid("data after a FATAL error");
      if (piece.kind === "run") {
        this.count(piece.messages, piece.bytes.length);
        this.capture.run(piece.bytes);
        out.push(piece.bytes);
      } else if (piece.type === D) {
        // a masked row cut at the chunk's edge, whole again
        out.push(this.dataRow(piece.frame));
      } else {
        const replaced = this.message(piece.type, piece.frame);
        if (replaced instanceof Promise) {
          return replaced.then((r) => {
            if (r !== null) out.push(r);
            return this.drain(out);
          });
        }
        if (replaced !== null) out.push(replaced);
      }
    }
  }

  /** the plan of the result being returned; null: none is (masked sessions take no DataRow then) */
  private rowPlan(): RowMaskPlan | null {
    const head = this.options.queue.peek();
    if (head?.kind === "execute") return this.portalPlans.get(head.portal) ?? null;
    return head?.kind === "query" ? this.queryPlan : null;
  }

  /** how many more rows may start in one run before a limit is reached (at least 1, so the passing row is seen) */
  private rowsLeft(): number {
    const { rowsPerStatement, rowsPerSession } = this.options.limits;
    let left = Number.MAX_SAFE_INTEGER;
    if (rowsPerStatement !== undefined) left = Math.min(left, rowsPerStatement - this.unitRows - (this.earlier()?.rows ?? 0));
    if (rowsPerSession !== undefined) left = Math.min(left, rowsPerSession - this.sessionRows);
    return Math.max(left, 1);
  }

  private count(rows: number, bytes: number): void {
    this.unitRows += rows;
    this.sessionRows += rows;
    this.unitBytes += bytes;
    this.sessionBytes += bytes;
    const { rowsPerStatement, rowsPerSession, bytesPerStatement, bytesPerSession } = this.options.limits;
    const earlier = this.earlier();
    if (rowsPerStatement !== undefined && this.unitRows + (earlier?.rows ?? 0) > rowsPerStatement) throw limit(`row limit of ${rowsPerStatement} per statement exceeded`);
    if (rowsPerSession !== undefined && this.sessionRows > rowsPerSession) throw limit(`row limit of ${rowsPerSession} per session exceeded`);
    if (bytesPerStatement !== undefined && this.unitBytes + (earlier?.bytes ?? 0) > bytesPerStatement) throw limit(`byte limit of ${bytesPerStatement} per statement exceeded`);
    if (bytesPerSession !== undefined && this.sessionBytes > bytesPerSession) throw limit(`byte limit of ${bytesPerSession} per session exceeded`);
  }

  /** what the portal being executed returned before it was last suspended, if it was */
  private earlier(): { rows: number; bytes: number } | undefined {
    if (this.suspended.size === 0) return undefined;
    const head = this.options.queue.peek();
    return head?.kind === "execute" ? this.suspended.get(head.portal) : undefined;
  }

  /** a DataRow of a masked session (other sessions stream them) */
  private dataRow(frame: Buffer): Buffer {
    const plan = this.rowPlan();
    if (plan === null) throw invalid("a DataRow outside a described row result");
    this.count(1, frame.length);
    const row = plan.maskDataRow(frame);
    this.capture.message(row);
    return row;
  }

  /** a whole message: returns what to forward, or null to swallow it */
  private message(type: number, frame: Buffer): Buffer | null | Promise<Buffer | null> {
    const queue = this.options.queue;
    const head = queue.peek();
    switch (String.fromCharCode(type)) {
      case "D":
        return this.dataRow(frame);
      case "d": {
        // masked sessions only: the others stream CopyData
        if (!this.copying) throw invalid("a CopyData outside COPY");
        this.count(1, frame.length);
        return this.copyPlan?.maskCopyData(frame) ?? frame;
      }
      case "T":
        return this.rowDescription(head, frame);
      case "n":
        if (head?.kind !== "describe") throw desync("NoData", head);
        queue.shift();
        if (head.target === "P") this.portalPlans.set(head.name, null);
        return head.swallow ? null : frame;
      case "t":
        if (head?.kind !== "describe") throw desync("ParameterDescription", head);
        return frame;
      case "1":
        if (head?.kind !== "parse") throw desync("ParseComplete", head);
        queue.shift();
        head.confirmed?.();
        this.statements.set(head.name, head.info);
        // judged now, so the statement's runs find the answer ready (touched())
        if (head.info !== null) void this.options.columnMasks?.mayRunOpaqueCode(head.info);
        return frame;
      case "3":
        if (head?.kind !== "close") throw desync("CloseComplete", head);
        queue.shift();
        if (head.target === "S") forget(this.statements, head.name);
        else this.forgetPortal(head.name);
        if (head.bind !== undefined) this.options.onPortalClosed?.(head.name, head.bind);
        return head.swallow === true ? null : frame;
      case "2":
        if (head?.kind !== "bind") throw desync("BindComplete", head);
        queue.shift();
        this.portals.set(head.portal, head.denied === null ? (this.statements.get(head.statement) ?? null) : null);
        if (this.suspended.size > 0) this.suspended.delete(head.portal);
        if (this.portals.size > MAX_NAMES) throw tooMuch(`more than ${MAX_NAMES} portals`);
        this.portalPlans.delete(head.portal);
        return frame;
      case "H":
        return this.copyOut(head, frame).then(() => {
          this.copying = true;
          return frame;
        });
      case "c": {
        if (!this.copying) throw invalid("a CopyDone outside COPY");
        this.copying = false;
        // CopyDone: the rest of a row the detectors still hold goes out before it
        const rest = this.copyPlan?.end() ?? null;
        return rest === null ? frame : Buffer.concat([rest, frame]);
      }
      case "C":
      case "I":
      case "s": {
        this.queryPlan = null;
        this.copyPlan = null;
        this.copying = false;
        queue.commandCompleted();
        if (head?.kind === "query") {
          this.queryAnswered = true;
          return frame;
        }
        if (head?.kind !== "execute") throw desync("CommandComplete, EmptyQueryResponse or PortalSuspended", head);
        if (type === PORTAL_SUSPENDED) {
          const earlier = this.suspended.get(head.portal);
          this.suspended.set(head.portal, { rows: (earlier?.rows ?? 0) + this.unitRows, bytes: (earlier?.bytes ?? 0) + this.unitBytes });
        } else if (this.suspended.size > 0) {
          this.suspended.delete(head.portal);
        }
        queue.shift();
        const info = this.portals.get(head.portal) ?? null;
        this.finishUnit(info ?? unknownPortal(head.portal), head.started);
        const pending = this.touched(info, head.portal);
        return pending === undefined ? frame : pending.then(() => frame);
      }
      case "E":
        return this.error(head, frame);
      case "Z": {
        if (frame.length !== 6 || !READY_STATUS.has(frame[5])) throw invalid("a ReadyForQuery with an invalid status");
        if (head?.kind === "query") {
          // a Query is answered (CommandComplete, EmptyQueryResponse or an error) before its ReadyForQuery
          if (!this.queryAnswered) throw desync("ReadyForQuery before any answer to its Query", head);
          this.queryAnswered = false;
          this.finishUnit(head.info, head.started);
        } else if (head?.kind !== "sync") {
          throw desync("ReadyForQuery", head);
        }
        queue.shift();
        this.queryPlan = null;
        this.copying = false;
        // the portals bound in the transaction ended with it (only SQL declares a cursor WITH HOLD, and
        // a DECLARE makes its name unknown anyway)
        if (frame[5] === IDLE) {
          this.transactionEnded();
          if (head.seq !== undefined) this.options.onIdle?.(head.seq);
        }
        if (head.kind !== "query") return frame;
        // a simple query replaces the unnamed statement and portal
        forget(this.statements, "");
        this.forgetPortal("");
        const pending = head.denied === null ? this.touched(head.info, null) : undefined;
        return pending === undefined ? frame : pending.then(() => frame);
      }
      case "R":
      case "K":
        throw desync("AuthenticationRequest or BackendKeyData", head);
      case "S": {
        const problem = parameterStatusProblem(frame) ?? (this.scrub === null ? undefined : parameterValueProblem(frame, this.scrub));
        if (problem !== undefined) throw new SessionEnd({ severity: "FATAL", code: "55000", message: `${problem}: session closed` });
        return this.scrub === null ? frame : scrubParameterStatus(frame, this.scrub);
      }
      case "N":
        return this.scrub === null ? frame : scrubMessage(frame, this.scrub, this.statementOf([head]));
      case "A":
        return this.scrub === null ? frame : scrubNotification(frame, this.scrub);
      case "G":
        if (head?.kind !== "query" && head?.kind !== "execute") throw desync("CopyInResponse", head);
        queue.copyInStarted();
        return frame;
      default:
        // CopyDone, FunctionCallResponse
        return frame;
    }
  }

  private rowDescription(head: Expectation | undefined, frame: Buffer): Buffer | null | Promise<Buffer | null> {
    this.capture.describe(frame);
    if (head?.kind === "query") {
      const plan = this.plan(frame, head.info);
      if (!(plan instanceof Promise)) {
        this.queryPlan = plan;
        return frame;
      }
      return plan.then((p) => {
        this.queryPlan = p;
        return frame;
      });
    }
    if (head?.kind !== "describe") throw desync("RowDescription", head);
    this.options.queue.shift();
    const forward = head.swallow ? null : frame;
    if (head.target !== "P") return forward;
    const plan = this.plan(frame, this.portals.get(head.name) ?? null);
    if (!(plan instanceof Promise)) {
      this.portalPlans.set(head.name, plan);
      return forward;
    }
    return plan.then((p) => {
      this.portalPlans.set(head.name, p);
      return forward;
    });
  }

  /** the result's mask plan: from the session's cache when this shape was planned before */
  private plan(frame: Buffer, info: StatementInfo | null): RowMaskPlan | null | Promise<RowMaskPlan | null> {
    const { columnMasks, masks } = this.options;
    if (columnMasks === null && masks.detectors.size === 0) return null;
    const key = this.plans.key(frame, info);
    const cached = this.plans.get(key);
    if (cached !== undefined) return cached;
    return this.buildPlan(frame, info).then((plan) => {
      this.plans.set(key, plan);
      return plan;
    });
  }

  private async buildPlan(frame: Buffer, info: StatementInfo | null): Promise<RowMaskPlan> {
    const { columnMasks, masks, masking } = this.options;
    const fields = decodeRowDescription(frame);
    const columns = columnMasks !== null
      ? await columnMasks.resolve(fields, info)
      : fields.map((f) => ({ strategy: null, format: f.format, typeOid: f.typeOid }));
    return masking.planRows(columns, masks.detectors) ?? checkingPlan(columns.length);
  }

  private async copyOut(head: Expectation | undefined, frame: Buffer): Promise<void> {
    if (frame.length < 8 || frame.length !== 8 + 2 * frame.readUInt16BE(6)) throw invalid("a malformed CopyOutResponse");
    if (this.copying) throw invalid("a CopyOutResponse during COPY");
    const info = head?.kind === "query" ? head.info : head?.kind === "execute" ? (this.portals.get(head.portal) ?? null) : null;
    const { columnMasks, masks, masking } = this.options;
    // COPY naming a masked table is refused by the gate; a view over one is found here, before any row.
    if (columnMasks !== null && (await columnMasks.resolve([{ tableOid: 0, attnum: 0, typeOid: 25, format: 0 }], info))[0]?.strategy) {
      throw new SessionEnd({ severity: "FATAL", code: "42501", message: "COPY reads a table with masked columns (through a view or function): session closed" });
    }
    if (masks.detectors.size === 0) {
      this.copyPlan = null;
      return;
    }
    // the gate read the layout, or refused one the detectors cannot read; what is left to fail
    // here is a COPY it never saw parsed, or output the server says is binary
    const format = info?.copyFormat;
    if (format === undefined) throw copyRefused("COPY of a statement the gateway did not see parsed");
    if (frame[5] !== 0) throw copyRefused("binary COPY output cannot be scanned by detectors");
    this.copyPlan = masking.planCopy(masks.detectors, format, frame.readInt16BE(6));
  }

  private error(head: Expectation | undefined, frame: Buffer): Buffer {
    const queue = this.options.queue;
    const ours = frame.includes(this.marker);
    const fields = decodeFieldList(frame);
    if (fields === null) throw invalid("a malformed ErrorResponse");
    const severity = fieldValue(fields, "V") ?? fieldValue(fields, "S");
    if (severity === "FATAL" || severity === "PANIC") this.upstreamEnded = true;
    // the rest of an extended-protocol batch: the server skips it up to Sync
    const batch = head === undefined || head.kind === "query" || head.kind === "sync" ? [] : queue.dropUntilSync();
    // the upstream's own error as the client and the audit may see it
    const shown = ours || this.scrub === null ? fields : scrubFields(ERROR, fields, this.scrub, this.statementOf([head, ...batch]));
    const upstream = shown === fields ? frame : encodeFields(ERROR, shown);
    this.unitError = fieldValue(shown, "M");
    // an error ends the statement's result (and a COPY): rows may only follow a new RowDescription
    if (!queue.copyInFailed(fieldValue(fields, "C"))) {
      throw new SessionEnd({ severity: "FATAL", code: "08P01", message: "a COPY FROM STDIN failed after Syncs it was sent that the server may answer or not: the gateway can no longer pair its answers, session closed" });
    }
    this.queryPlan = null;
    this.copyPlan = null;
    this.copying = false;
    if (head?.kind === "query") {
      this.queryAnswered = true;
      if (ours && head.denied !== null) {
        this.unitError = undefined;
        return head.denied;
      }
      if (ours) throw desync("error naming the refusal sentinel", head);
      return upstream;
    }
    if (head === undefined || head.kind === "sync") return upstream; // e.g. FATAL at shutdown
    const replacement = this.skipped(batch, ours);
    // nothing the batch meant was recorded (a Describe, a refused or unknown statement): the error is no later statement's
    if (this.unitError !== undefined) this.finishUnit(null, 0);
    if (ours && replacement === null) throw desync("error naming the refusal sentinel", head);
    return replacement ?? upstream;
  }

  /**
   * An extended-protocol batch the server answered with an error: its first message failed, the
   * rest up to Sync was skipped. No name it parses or binds is stored (a failed Parse of a name
   * leaves an older statement of that name in place, which the gateway no longer knows). The
   * statement whose Parse, Bind or Execute failed is audited once, with the error; the skipped
   * Executes did not run and are not — how many of a batch's were sent before the error came
   * back depends on timing. Returns the refusal to show when `ours` (the sentinel's error)
   * answers a refused Parse or Bind.
   */
  private skipped(batch: readonly Expectation[], ours: boolean): Buffer | null {
    let replacement: Buffer | null = null;
    for (const item of batch) {
      switch (item.kind) {
        case "parse":
          if (item.denied !== null && ours) replacement ??= item.denied;
          // a refused Parse (info null) was audited when it was refused
          if (item === batch[0] && item.info !== null) this.finishUnit(item.info, Date.now());
          forget(this.statements, item.name);
          break;
        case "bind": {
          if (item.denied !== null && ours) replacement ??= item.denied;
          const failed = item === batch[0] && item.denied === null ? this.statements.get(item.statement) : undefined;
          if (failed != null) this.finishUnit(failed, Date.now());
          this.forgetPortal(item.portal);
          break;
        }
        case "execute": {
          if (item !== batch[0]) break;
          const info = this.portals.get(item.portal) ?? null;
          this.finishUnit(info ?? unknownPortal(item.portal), item.started);
          // what ran may have changed names before it failed (no waiting for the catalog here)
          this.touched(info, item.portal, false);
          break;
        }
        case "close":
          if (item.target === "S") forget(this.statements, item.name);
          else this.forgetPortal(item.name);
          break;
        default:
          break;
      }
    }
    return replacement;
  }

  /**
   * After a statement ran: the names it may have created, replaced or dropped are forgotten — its
   * own (PREPARE s, CLOSE c), or every one when it may have run opaque code (DO, CALL, and in a
   * session with column masks whatever the masking judges opaque) or the gateway does not know
   * what ran. `running`: the portal that ran it, which stays (a portal cannot close itself).
   * A promise only while the catalog is asked about code not judged before — unless `wait` is
   * false: then every name is forgotten at once.
   */
  private touched(info: StatementInfo | null, running: string | null, wait = true): Promise<void> | undefined {
    if (info === null) {
      this.forgetAll(running);
      return undefined;
    }
    for (const { sessionNames } of info.decision.statements) {
      if (sessionNames === undefined) continue;
      for (const name of sessionNames.statements) {
        if (name === "*") this.statements.clear();
        else forget(this.statements, name);
      }
      for (const name of sessionNames.portals) {
        if (name === "*") this.forgetPortalsBut(running);
        else this.forgetPortal(name);
      }
    }
    const columnMasks = this.options.columnMasks;
    if (columnMasks === null || (this.statements.size === 0 && this.portals.size <= (running === null ? 0 : 1))) return undefined;
    const opaque = columnMasks.mayRunOpaqueCode(info);
    if (opaque === false) return undefined;
    if (opaque === true || !wait) {
      this.forgetAll(running);
      return undefined;
    }
    return opaque.then((yes) => {
      if (yes) this.forgetAll(running);
    });
  }

  private forgetAll(running: string | null): void {
    if (this.statements.size > 0) this.statements.clear();
    this.forgetPortalsBut(running);
  }

  /** every portal but `running` (null: every one) is unknown, and its plan gone: the gate describes it again before it runs */
  private forgetPortalsBut(running: string | null): void {
    const info = running === null ? undefined : this.portals.get(running);
    const plan = running === null ? undefined : this.portalPlans.get(running);
    if (this.portals.size > 0) this.portals.clear();
    if (this.portalPlans.size > 0) this.portalPlans.clear();
    if (info !== undefined) this.portals.set(running!, info);
    if (plan !== undefined) this.portalPlans.set(running!, plan);
  }

  private forgetPortal(name: string): void {
    forget(this.portals, name);
    if (this.suspended.size > 0) this.suspended.delete(name);
    this.portalPlans.delete(name);
  }

  /**
   * ReadyForQuery idle: every portal bound in the transaction is gone. Row plans stay: a cursor
   * declared WITH HOLD keeps its plan, and anything that could replace a portal runs in a Query or
   * an Execute, after which the gate describes the others again.
   */
  private transactionEnded(): void {
    if (this.suspended.size > 0) this.suspended.clear();
    const portals = this.portals;
    if (portals.size === 0) return;
    // the usual case, the unnamed portal alone, without reallocating the map
    if (portals.size === 1 && portals.has("")) portals.set("", null);
    else portals.clear();
  }

  /** the text of the statement an upstream message answers: the first of `answering` that knows it */
  private statementOf(answering: readonly (Expectation | undefined)[]): string | undefined {
    for (const e of answering) {
      const info = e === undefined ? null : this.infoOf(e);
      if (info !== null) return info.text;
    }
    return undefined;
  }

  private infoOf(e: Expectation): StatementInfo | null {
    switch (e.kind) {
      case "query":
      case "parse":
        return e.info;
      case "bind":
        return this.statements.get(e.statement) ?? null;
      case "describe":
        return (e.target === "S" ? this.statements.get(e.name) : this.portals.get(e.name)) ?? null;
      case "execute":
        return this.portals.get(e.portal) ?? null;
      default:
        return null;
    }
  }

  private finishUnit(info: StatementInfo | null, started: number): void {
    const output = this.capture.take();
    // refused statements are audited by the session when they are refused; a portal that ran without the gateway knowing its statement is audited as such
    if (info !== null && (info.decision.effect === "allow" || info.approval !== undefined)) {
      const result: StatementResult = { info, rows: this.unitRows, bytes: this.unitBytes, durationMs: Date.now() - started };
      if (this.unitError !== undefined) result.error = this.unitError;
      if (output !== undefined) result.output = output;
      this.options.onStatement(result);
    }
    this.unitRows = 0;
    this.unitBytes = 0;
    this.unitError = undefined;
  }
}

function copyRefused(reason: string): SessionEnd {
  return new SessionEnd({ severity: "FATAL", code: "42501", message: `${reason}: session closed` });
}

function limit(message: string): SessionEnd {
  return new SessionEnd({ severity: "FATAL", code: "54000", message: `${message}: session closed` });
}

/**
 * Prepared statements by name, as the server confirmed them, newest last. Drivers that never
 * close theirs (porsager's `postgres`, node-postgres' named queries) would grow it without end:
 * past MAX_PREPARED names or MAX_PREPARED_TEXT characters of text the oldest are forgotten, and
 * a forgotten name is unknown — the session's strongest masks, "statement unknown" on its record.
 */
class PreparedStatements extends Map<string, StatementInfo | null> {
  text = 0;

  override set(name: string, info: StatementInfo | null): this {
    this.text += (info?.text.length ?? 0) - (super.get(name)?.text.length ?? 0);
    // the unnamed statement is set on every round of the extended protocol: it keeps its place
    if (name !== "") super.delete(name);
    super.set(name, info);
    if (this.size > MAX_PREPARED || this.text > MAX_PREPARED_TEXT) this.forgetOldest(name);
    return this;
  }

  private forgetOldest(newest: string): void {
    for (const name of this.keys()) {
      if (this.size <= MAX_PREPARED && this.text <= MAX_PREPARED_TEXT) return;
      if (name !== "" && name !== newest) this.delete(name);
    }
  }

  override delete(name: string): boolean {
    this.text -= super.get(name)?.text.length ?? 0;
    return super.delete(name);
  }

  override clear(): void {
    this.text = 0;
    super.clear();
  }
}

/** `name` is no longer known; the unnamed one's entry stays in place (null), as every round reuses it */
function forget(names: Map<string, StatementInfo | null>, name: string): void {
  if (name === "") {
    if (names.get("") != null) names.set("", null);
  } else {
    names.delete(name);
  }
}

function desync(what: string, head: Expectation | undefined): SessionEnd {
  return invalid(`unexpected ${what} while ${head === undefined ? "no answer was due" : `waiting for the answer to ${head.kind}`}`);
}

function invalid(what: string): SessionEnd {
  return new SessionEnd({ severity: "FATAL", code: "08P01", message: `invalid message from the upstream: ${what}` });
}

/** what the upstream's bytes cannot be read as (framing, a row the masker cannot parse, a field past the end) ends the session as 08P01 */
function upstreamFailure(err: unknown): unknown {
  return err instanceof FramingError || err instanceof MaskingError || err instanceof RangeError ? invalid(err.message) : err;
}

/**
 * For a described result with nothing to mask in a masked session: its rows are checked
 * against the description (field count, lengths within the message), not changed.
 */
function checkingPlan(columns: number): RowMaskPlan {
  // int32/uint16 read by hand: Buffer#readInt32BE's own checks made this walk twice as slow
  const check = (run: Buffer): Buffer => {
    // the framer gave whole messages: each length field is within `run`
    for (let row = 0; row < run.length; ) {
      const end = row + 1 + ((run[row + 1]! << 24) | (run[row + 2]! << 16) | (run[row + 3]! << 8) | run[row + 4]!);
      if (run[row] !== D || end - row < 7) throw invalid("a malformed DataRow");
      const fields = (run[row + 5]! << 8) | run[row + 6]!;
      if (fields !== columns) throw invalid(`a DataRow of ${fields} fields in a result of ${columns} columns`);
      let at = row + 7;
      for (let i = 0; i < columns; i++) {
        if (end - at < 4) throw invalid("a DataRow cut in a field length");
        const length = (run[at]! << 24) | (run[at + 1]! << 16) | (run[at + 2]! << 8) | run[at + 3]!;
        at += 4;
        if (length < -1 || length > end - at) throw invalid("a DataRow field length out of bounds");
        if (length > 0) at += length;
      }
      if (at !== end) throw invalid("a DataRow with bytes after its last field");
      row = end;
    }
    return run;
  };
  return { maskDataRow: check, maskDataRows: check };
}

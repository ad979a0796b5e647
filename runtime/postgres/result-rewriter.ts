// Server → client: forward the upstream's bytes untouched, except
// - DataRow/CopyData of results that have a mask plan (decoded and rewritten by the masking module),
// - the error of a refused statement's sentinel (swapped for the gateway's 42501),
// - answers to Describe messages the gateway itself sent (swallowed).
// Rows and bytes are counted from message headers for limits and the audit.

import type { SessionLimits, SessionMasks } from "../engine/types.js";
import type { CapturedOutput, CopyMaskPlan, RowMaskPlan, RowMasking } from "./context.js";
import type { Expectation, ExpectationQueue, StatementInfo } from "./expectations.js";
import { BACKEND_TYPES, Framer } from "./framing.js";
import { parameterStatusProblem } from "./lexer-guard.js";
import type { ColumnMasks } from "./mask-columns.js";
import { decodeRowDescription } from "./mask-columns.js";
import { decodeFields, type ErrorFields } from "./messages.js";
import { OutputCapture } from "./output-capture.js";
import { RowPlanCache } from "./row-plan-cache.js";

const D = 0x44; // DataRow
const COPY_DATA = 0x64;

/** The session must end: the upstream stream can no longer be followed, or a limit was passed. */
export class SessionEnd extends Error {
  constructor(readonly fields: ErrorFields) {
    super(fields.message);
  }
}

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
}

export class ResultRewriter {
  private readonly framer = new Framer({ types: BACKEND_TYPES, maxMessage: 256 * 1024 * 1024, maxStreamed: 1024 * 1024 * 1024 });
  private readonly marker: Buffer;
  private readonly portalPlans = new Map<string, RowMaskPlan | null>();
  private queryPlan: RowMaskPlan | null = null;
  private copyPlan: CopyMaskPlan | null = null;
  private unitRows = 0;
  private unitBytes = 0;
  private unitError: string | undefined;
  private readonly capture = new OutputCapture();
  private readonly plans = new RowPlanCache();
  private readonly masking: boolean;
  sessionRows = 0;
  sessionBytes = 0;

  constructor(private readonly options: RewriterOptions) {
    this.marker = Buffer.from(options.marker);
    this.masking = options.columnMasks !== null || options.masks.detectors.size > 0;
    this.framer.streamable = this.masking
      ? (type) => (type === D ? this.rowPlan() === null : type === COPY_DATA && this.copyPlan === null)
      : (type) => type === D || type === COPY_DATA;
  }

  /** true between messages: the gateway may write a message of its own to the client */
  get atBoundary(): boolean {
    return this.framer.atBoundary;
  }

  /**
   * One upstream chunk in; what to send the client out (in order). A promise only when a message
   * needs the catalog (a result shape not planned yet, COPY out): the common case stays off the
   * microtask queue.
   */
  process(chunk: Buffer): Buffer[] | Promise<Buffer[]> {
    this.framer.push(chunk);
    return this.drain([]);
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
      if (piece === null) return out;
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

  private rowPlan(): RowMaskPlan | null {
    const head = this.options.queue.peek();
    return head?.kind === "execute" ? (this.portalPlans.get(head.portal) ?? null) : this.queryPlan;
  }

  /** how many more rows may start in one run before a limit is reached (at least 1, so the passing row is seen) */
  private rowsLeft(): number {
    const { rowsPerStatement, rowsPerSession } = this.options.limits;
    let left = Number.MAX_SAFE_INTEGER;
    if (rowsPerStatement !== undefined) left = Math.min(left, rowsPerStatement - this.unitRows);
    if (rowsPerSession !== undefined) left = Math.min(left, rowsPerSession - this.sessionRows);
    return Math.max(left, 1);
  }

  private count(rows: number, bytes: number): void {
    this.unitRows += rows;
    this.sessionRows += rows;
    this.unitBytes += bytes;
    this.sessionBytes += bytes;
    const { rowsPerStatement, rowsPerSession, bytesPerStatement, bytesPerSession } = this.options.limits;
    if (rowsPerStatement !== undefined && this.unitRows > rowsPerStatement) throw limit(`row limit of ${rowsPerStatement} per statement exceeded`);
    if (rowsPerSession !== undefined && this.sessionRows > rowsPerSession) throw limit(`row limit of ${rowsPerSession} per session exceeded`);
    if (bytesPerStatement !== undefined && this.unitBytes > bytesPerStatement) throw limit(`byte limit of ${bytesPerStatement} per statement exceeded`);
    if (bytesPerSession !== undefined && this.sessionBytes > bytesPerSession) throw limit(`byte limit of ${bytesPerSession} per session exceeded`);
  }

  private dataRow(frame: Buffer): Buffer {
    this.count(1, frame.length);
    const row = this.rowPlan()?.maskDataRow(frame) ?? frame;
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
      case "3":
        if (head?.kind !== (type === 0x31 ? "parse" : "close")) throw desync("completion", head);
        queue.shift();
        return frame;
      case "2":
        if (head?.kind !== "bind") throw desync("BindComplete", head);
        queue.shift();
        this.portalPlans.delete(head.portal);
        return frame;
      case "H":
        return this.copyOut(head, frame).then(() => frame);
      case "c": {
        // CopyDone: the rest of a row the detectors still hold goes out before it
        const rest = this.copyPlan?.end() ?? null;
        return rest === null ? frame : Buffer.concat([rest, frame]);
      }
      case "C":
      case "I":
      case "s":
        this.queryPlan = null;
        this.copyPlan = null;
        if (head?.kind === "execute") {
          queue.shift();
          this.finishUnit(head.info, head.started);
        }
        return frame;
      case "E":
        return this.error(head, frame);
      case "Z":
        if (head?.kind === "query") {
          this.finishUnit(head.info, head.started);
        } else if (head?.kind !== "sync") {
          throw desync("ReadyForQuery", head);
        }
        queue.shift();
        this.queryPlan = null;
        return frame;
      case "R":
      case "K":
        throw desync("an authentication message", head);
      case "S": {
        const problem = parameterStatusProblem(frame);
        if (problem !== undefined) throw new SessionEnd({ severity: "FATAL", code: "55000", message: `${problem}: session closed` });
        return frame;
      }
      default:
        // NoticeResponse, NotificationResponse, CopyIn/CopyDone, FunctionCallResponse
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
    const plan = this.plan(frame, head.info);
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

  private async buildPlan(frame: Buffer, info: StatementInfo | null): Promise<RowMaskPlan | null> {
    const { columnMasks, masks, masking } = this.options;
    const fields = decodeRowDescription(frame);
    const columns = columnMasks !== null
      ? await columnMasks.resolve(fields, info)
      : fields.map((f) => ({ strategy: null, format: f.format, typeOid: f.typeOid }));
    return masking.planRows(columns, masks.detectors);
  }

  private async copyOut(head: Expectation | undefined, frame: Buffer): Promise<void> {
    const info = head?.kind === "query" || head?.kind === "execute" ? head.info : null;
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
    this.unitError = decodeFields(frame).get("M");
    if (head?.kind === "query") {
      if (ours && head.denied !== null) {
        this.unitError = undefined;
        return head.denied;
      }
      if (ours) throw desync("a sentinel error", head);
      return frame;
    }
    if (head === undefined || head.kind === "sync") return frame; // e.g. FATAL at shutdown
    let replacement: Buffer | null = null;
    for (const dropped of queue.dropUntilSync()) {
      if (dropped.kind === "parse" && dropped.denied !== null && ours && replacement === null) replacement = dropped.denied;
      if (dropped.kind === "execute") this.finishUnit(dropped.info, dropped.started);
    }
    if (ours && replacement === null) throw desync("a sentinel error", head);
    this.queryPlan = null;
    this.copyPlan = null;
    return replacement ?? frame;
  }

  private finishUnit(info: StatementInfo | null, started: number): void {
    const output = this.capture.take();
    // refused statements are audited by the session when they are refused
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

function desync(what: string, head: Expectation | undefined): SessionEnd {
  return new SessionEnd({
    severity: "FATAL",
    code: "08P01",
    message: `gateway lost track of the protocol: unexpected ${what} while waiting for ${head?.kind ?? "nothing"}`,
  });
}

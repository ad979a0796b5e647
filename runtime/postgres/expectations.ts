// What the client asked for, in order, so each upstream response can be matched to the request
// that produced it. The query gate appends; the result rewriter consumes.

import type { Decision } from "../engine/types.js";
import type { CopyFormat } from "../masking/index.js";

/** One decided statement text (a simple Query, or a Parse), as the rewriter needs it. */
export interface StatementInfo {
  text: string;
  decision: Decision;
  /** review: the approval request that released it */
  approval?: string;
  /** COPY … TO STDOUT in a session with detectors: the layout of its output, read by the gate */
  copyFormat?: CopyFormat;
  /** in a session with column masks, the catalog judges what the statement stores or changes before it runs (mask-refusals.ts) */
  maskCheck?: true;
}

// Names (of prepared statements and portals) are carried as the client sent them: the result
// rewriter maps a name to its StatementInfo only when the server's answer confirms it, in the
// server's order (docs/masking.md, "Statement and portal names").
//
// `reportsCode` on a query or sync: messages that may run code (which may change a setting) were
// sent before it, after the previous such boundary (a query: or it runs code itself); the server
// reports changed settings just before the ReadyForQuery that answers it.
//
// `copyEnds` on a query, execute or sync: how many CopyDone/CopyFail the client had sent before
// it (absent: none), to tell which Syncs a server in COPY FROM STDIN ignores. `seq` on a query or
// sync: its number among the Syncs and Queries sent, while the gate follows named portals.
export type Expectation =
  | { kind: "query"; info: StatementInfo; denied: Buffer | null; started: number; reportsCode?: true; copyEnds?: number; seq?: number | undefined }
  /**
   * info: the statement the name stands for once ParseComplete arrives; null when refused (the
   * sentinel never parses). confirmed: called on that ParseComplete (statement-grants.ts).
   */
  | { kind: "parse"; name: string; info: StatementInfo | null; denied: Buffer | null; confirmed?: (() => void) | undefined }
  /** denied: the statement's latest Parse was refused, so the Bind was sent naming the sentinel (which no statement has) */
  | { kind: "bind"; portal: string; statement: string; denied: Buffer | null }
  /** swallow: the gateway asked (to learn a portal's result formats); the client must not see the answer */
  | { kind: "describe"; target: "S" | "P"; name: string; swallow: boolean }
  | { kind: "execute"; portal: string; started: number; copyEnds?: number }
  /**
   * swallow: the gateway closed it (a statement an approval released, once run); the client must
   * not see the answer. bind: the number of the named portal's Bind the gate follows (QueryGate.portalClosed)
   */
  | { kind: "close"; target: "S" | "P"; name: string; swallow?: true; bind?: number }
  | { kind: "sync"; reportsCode?: true; copyEnds?: number; seq?: number | undefined };

/**
 * A FIFO with O(1) shift. It also knows whether code that may have changed a setting ran
 * without the server having reported it yet (pipeline-barrier.ts): the gate calls
 * codeMayRun() before pushing a message that may run code; the ReadyForQuery of the next query
 * or sync pushed after it is where the server reports what that code changed.
 */
export class ExpectationQueue {
  private items: Expectation[] = [];
  private head = 0;
  /** a message that may run code was pushed after the last query or sync */
  private codeOpen = false;
  /** queries and syncs marked reportsCode still in the queue (their ReadyForQuery not read) */
  private reportsDue = 0;
  /**
   * the server skips every message until the next Sync: an extended-protocol error arrived with
   * no Sync sent after it yet. What the client sends meanwhile gets no answer, a Query included.
   */
  private skipping = false;
  /** CopyDone and CopyFail messages the client sent */
  private copyEnds = 0;
  /**
   * the server is in COPY FROM STDIN until the client's next CopyDone or CopyFail, which has not
   * been sent yet: a Sync sent meanwhile is ignored by the server (and gets no answer)
   */
  private copyIn = false;
  /**
   * Syncs were taken for ignored by a server in COPY FROM STDIN (copyIn, copyInStarted): right if
   * the COPY ends at the client's CopyDone, wrong if it fails before reading them (a FREEZE check,
   * a trigger raising) — the server then answers them. Until its CommandComplete.
   */
  private syncsTakenIgnored = false;
  /** the client sent CopyData, and neither CopyDone nor CopyFail since, and no error ended the COPY */
  private copyDataOpen = false;
  /** the client sent CopyData since the last CommandComplete or error */
  private copyDataSent = false;

  /** the next message pushed may run code (call before pushing it) */
  codeMayRun(): void {
    this.codeOpen = true;
  }

  /**
   * Code that may have changed a setting was sent and the ReadyForQuery after it not read yet:
   * the server may be reading later text under that setting, unreported.
   */
  get settingsUnreported(): boolean {
    return this.codeOpen || this.reportsDue > 0;
  }

  /** the client sent CopyDone or CopyFail: the end of the COPY FROM STDIN the server is in, if any */
  copyEnded(): void {
    this.copyEnds += 1;
    this.copyIn = false;
    this.copyDataOpen = false;
  }

  push(item: Expectation): void {
    if (this.copyEnds > 0 && (item.kind === "query" || item.kind === "execute" || item.kind === "sync")) item.copyEnds = this.copyEnds;
    // PostgreSQL ignores Sync (and Flush) in COPY FROM STDIN, for clients that send them without noticing the COPY
    if (this.copyIn && item.kind === "sync") {
      this.syncsTakenIgnored = true;
      return;
    }
    if (this.skipping) {
      // the server skips it: no answer comes, and none may be paired with it
      if (item.kind !== "sync") return;
      this.skipping = false;
    }
    if ((item.kind === "query" || item.kind === "sync") && this.codeOpen) {
      item.reportsCode = true;
      this.reportsDue += 1;
      this.codeOpen = false;
    }
    this.items.push(item);
  }

  /** expectations not answered yet */
  get outstanding(): number {
    return this.items.length - this.head;
  }

  peek(): Expectation | undefined {
    return this.items[this.head];
  }

  shift(): Expectation | undefined {
    const item = this.items[this.head];
    if (item === undefined) return undefined;
    this.head += 1;
    if ((item.kind === "query" || item.kind === "sync") && item.reportsCode === true) this.reportsDue -= 1;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /**
   * The server entered COPY FROM STDIN for the statement at the head (its CopyInResponse): the
   * Syncs the client sent after that statement and before its next CopyDone or CopyFail are
   * ignored by the server, so they expect no answer — those queued are dropped, those still to
   * come are not queued (a Sync's report of code that ran passes to the next query or sync).
   */
  copyInStarted(): void {
    const head = this.items[this.head];
    const sent = head?.kind === "query" || head?.kind === "execute" ? (head.copyEnds ?? 0) : 0;
    let reports = false;
    for (let i = this.head + 1; i < this.items.length; ) {
      const item = this.items[i]!;
      if ((item.kind === "query" || item.kind === "execute" || item.kind === "sync") && (item.copyEnds ?? 0) > sent) break;
      if (item.kind !== "sync") {
        i += 1;
        continue;
      }
      if (item.reportsCode === true) {
        reports = true;
        this.reportsDue -= 1;
      }
      this.items.splice(i, 1);
      this.syncsTakenIgnored = true;
    }
    if (reports) this.reportAtNext(this.head + 1);
    if (this.copyEnds === sent) this.copyIn = true;
  }

  /** the client is sending a COPY's data: a Sync now is among it (QueryGate keeps it from the server) */
  get inCopyData(): boolean {
    return this.copyDataOpen;
  }

  /** the client sent CopyData */
  copyData(): void {
    this.copyDataOpen = true;
    this.copyDataSent = true;
  }

  /**
   * An error (SQLSTATE `code`): it ends a COPY FROM STDIN the server was in (a later Sync is read,
   * and answered, again). Returns false when Syncs were taken for ignored by that COPY and the
   * server may have failed before reading them — then it answers them, and answers can no longer
   * be paired. It read them if it failed on the data, which comes after them: a data or integrity
   * error (classes 22, 23) after the client sent CopyData. (A trigger raising such a code is code
   * the policy let run.)
   */
  copyInFailed(code: string | undefined): boolean {
    const paired = !this.syncsTakenIgnored || (this.copyDataSent && code !== undefined && /^2[23]/.test(code));
    this.copyIn = false;
    this.copyDataOpen = false;
    this.copyDataSent = false;
    this.syncsTakenIgnored = false;
    return paired;
  }

  /** a CommandComplete: a COPY FROM STDIN ended at the client's CopyDone, every Sync before it read while copying */
  commandCompleted(): void {
    this.syncsTakenIgnored = false;
    this.copyDataOpen = false;
    this.copyDataSent = false;
  }

  /** the first query or sync in the queue from index `from` reports code that ran, or the next one pushed */
  private reportAtNext(from: number): void {
    for (let i = from; i < this.items.length; i++) {
      const item = this.items[i]!;
      if (item.kind !== "query" && item.kind !== "sync") continue;
      if (item.reportsCode !== true) {
        item.reportsCode = true;
        this.reportsDue += 1;
      }
      return;
    }
    this.codeOpen = true;
  }

  /**
   * after an error in the extended protocol the server skips everything up to Sync. A skipped
   * query gets no ReadyForQuery: the code it was to report is reported at the Sync's.
   */
  dropUntilSync(): Expectation[] {
    const dropped: Expectation[] = [];
    let reports = false;
    for (let item = this.peek(); item !== undefined && item.kind !== "sync"; item = this.peek()) {
      if (item.kind === "query" && item.reportsCode === true) reports = true;
      dropped.push(this.shift()!);
    }
    // the head is now the Sync, if one was sent
    if (reports) this.reportAtNext(this.head);
    // no Sync sent yet: what the client sends until one is skipped too
    if (this.peek() === undefined) this.skipping = true;
    return dropped;
  }
}

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
export type Expectation =
  | { kind: "query"; info: StatementInfo; denied: Buffer | null; started: number }
  /** info: the statement the name stands for once ParseComplete arrives; null when refused (the sentinel never parses) */
  | { kind: "parse"; name: string; info: StatementInfo | null; denied: Buffer | null }
  /** denied: the statement's latest Parse was refused, so the Bind was sent naming the sentinel (which no statement has) */
  | { kind: "bind"; portal: string; statement: string; denied: Buffer | null }
  /** swallow: the gateway asked (to learn a portal's result formats); the client must not see the answer */
  | { kind: "describe"; target: "S" | "P"; name: string; swallow: boolean }
  | { kind: "execute"; portal: string; started: number }
  | { kind: "close"; target: "S" | "P"; name: string }
  | { kind: "sync" };

/** A FIFO with O(1) shift. */
export class ExpectationQueue {
  private items: Expectation[] = [];
  private head = 0;

  push(item: Expectation): void {
    this.items.push(item);
  }

  peek(): Expectation | undefined {
    return this.items[this.head];
  }

  shift(): Expectation | undefined {
    const item = this.items[this.head];
    if (item === undefined) return undefined;
    this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** after an error in the extended protocol the server skips everything up to Sync */
  dropUntilSync(): Expectation[] {
    const dropped: Expectation[] = [];
    for (let item = this.peek(); item !== undefined && item.kind !== "sync"; item = this.peek()) {
      dropped.push(this.shift()!);
    }
    return dropped;
  }
}

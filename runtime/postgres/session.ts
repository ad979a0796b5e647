// One client session: the upstream connection, then two pumps — client → gate → upstream and
// upstream → rewriter → client — with backpressure both ways. Any protocol error ends this
// session only. A statement held — for the catalog to judge what it stores, or for approval —
// stops the client pump (the client's later messages wait) until it is decided; results of
// earlier statements keep flowing meanwhile. So does an audit log whose backlog is past its
// high-water mark, until it drains: a client cannot send statements faster than they are
// recorded. An audit log that can no longer record ends the session.

import { randomUUID } from "node:crypto";
import { serialize } from "pg-protocol";
import type { Socket } from "node:net";
import type { AcceptedClient } from "./client-startup.js";
import { sendCancel, type CancelRegistry } from "./cancel.js";
import type { Catalog } from "./masks/catalog.js";
import type { ProxyContext } from "./context.js";
import { ExpectationQueue } from "./expectations.js";
import { FRONTEND_TYPES, Framer, FramingError } from "./framing.js";
import { clientEncodingProblem } from "./lexer-guard.js";
import { ColumnMasks } from "./masks/mask-columns.js";
import { authenticationRequest, backendKeyData, errorResponse, noticeResponse, readyForQuery, SessionEnd, type ErrorFields } from "./messages.js";
import { QueryGate, type GateOutcome, type HeldMessage } from "./query-gate.js";
import { ResultRewriter } from "./result-rewriter.js";
import { connectUpstream, type UpstreamSession } from "./upstream/server-connect.js";
import { watchSessionValidity } from "./session-validity.js";
import { MAX_CLIENT_MESSAGE, statementLimits, statementTooLarge } from "./statement-limit.js";

const TERMINATE = 0x58;
/**
 * Messages a client may have waiting for their answers (Parse, Bind, Execute, Sync, Query …)
 * before the gateway stops reading it until half are answered. Each Execute of a long statement
 * becomes an audit record of up to 64 KiB when its answer comes back, from a few bytes sent: the
 * bound keeps what one session can put in flight — records, and the answers it has not read — to
 * a few MiB. Drivers pipeline far less (pgjdbc's batches, libpq's pipeline mode wait for answers
 * at about this depth).
 */
const MAX_UNANSWERED = 128;
const FLUSH = serialize.flush();
/** how long a session the audit log ends may take to get the answers to what it sent (a COPY FROM STDIN waits for its client) */
const ANSWER_FIRST_MS = 10_000;

export interface SessionDeps {
  ctx: ProxyContext;
  cancels: CancelRegistry;
  catalog(connection: string): Catalog;
}

export async function runSession(client: AcceptedClient, deps: SessionDeps): Promise<void> {
  const { ctx } = deps;
  const sessionId = randomUUID();
  const log = ctx.logger.child({ session: sessionId, connection: client.connection, subject: client.identity.subject });
  const encoding = client.params.get("client_encoding");
  const badEncoding = encoding === undefined ? undefined : clientEncodingProblem(encoding);
  if (badEncoding !== undefined) {
    client.socket.end(errorResponse({ severity: "FATAL", code: "22023", message: badEncoding }));
    return;
  }
  let upstream: UpstreamSession;
  try {
    upstream = await connectUpstream(client.target, client.params);
  } catch (err) {
    log.warn({ err }, "upstream connection failed");
    client.socket.end(errorResponse({ severity: "FATAL", code: "08001", message: `cannot connect to "${client.connection}" upstream` }));
    return;
  }
  /** aborts the wait of the statement held for approval, if any, when the client cancels */
  let cancelHold: AbortController | null = null;
  const key = upstream.backendKey === null
    ? null
    : deps.cancels.register({ host: client.target.host, port: client.target.port, tls: client.target.tls, ...upstream.backendKey }, () => {
      if (cancelHold === null) return false;
      cancelHold.abort();
      return true;
    });
  const hello = [authenticationRequest(0), ...upstream.relay];
  if (key !== null) hello.push(backendKeyData(key.pid, key.secret));
  hello.push(readyForQuery(upstream.status));
  writeAll(client.socket, hello);
  ctx.audit.sessionStarted({
    sessionId,
    identity: client.identity,
    connection: client.connection,
    client: `${client.socket.remoteAddress}:${client.socket.remotePort}`,
    startedAt: new Date(),
  });
  log.info("session started");
  ctx.metrics?.sessionOpened();

  const policy = client.policy;
  const queue = new ExpectationQueue();
  const columnMasks = policy.masks.columns.size > 0 ? new ColumnMasks(policy.masks, deps.catalog(client.connection)) : null;
  const gate = new QueryGate(policy, queue, ctx.approvals !== undefined, ctx.metrics, columnMasks === null ? undefined : (info) => columnMasks.knownCatalogRefusal(info));
  const rewriter = new ResultRewriter({
    queue,
    marker: gate.marker,
    limits: policy.limits,
    masks: policy.masks,
    columnMasks,
    masking: ctx.masking,
    onIdle: (seq) => gate.transactionEnded(seq),
    onPortalClosed: (name, bind) => gate.portalClosed(name, bind),
    onStatement: (r) =>
      ctx.audit.statement({
        sessionId, text: r.info.text, effect: r.info.decision.effect, rules: r.info.decision.rules,
        reason: r.info.decision.reason, rows: r.rows, bytes: r.bytes, durationMs: r.durationMs, ...(r.error ? { error: r.error } : {}),
        ...(r.info.approval !== undefined && { approval: r.info.approval }), ...(r.output !== undefined && { output: r.output }),
      }),
  });
  const clientFramer = new Framer({ types: FRONTEND_TYPES, maxMessage: MAX_CLIENT_MESSAGE, maxStreamed: 0, typeLimits: statementLimits(ctx.maxStatementBytes) });
  const server = upstream.socket;
  const socket = client.socket;

  let ended = false;
  let endError: string | undefined;
  /** stops waiting on a held statement's approval when the session ends */
  const stopWaiting = new AbortController();
  const end = (fields?: ErrorFields): void => {
    if (ended) return;
    ended = true;
    stopWaiting.abort();
    if (fields !== undefined) {
      endError = fields.message;
      log.warn({ code: fields.code }, fields.message);
      // inside a message the client is still receiving, an error would be read as its rest
      if (rewriter.clientAtBoundary) socket.end(errorResponse(fields));
      else socket.end();
    } else {
      socket.end();
    }
    server.destroy();
  };
  const fail = (err: unknown): void => {
    if (err instanceof SessionEnd) return end(err.fields);
    const tooLarge = statementTooLarge(err);
    if (tooLarge !== undefined) return end(tooLarge);
    if (err instanceof FramingError || err instanceof RangeError) return end({ severity: "FATAL", code: "08P01", message: `invalid message from the client: ${err.message}` });
    log.error({ err }, "session failed");
    end({ severity: "FATAL", code: "XX000", message: "internal gateway error" });
  };
  /** ends the session at once: a statement running then is canceled, not left to finish */
  const endNow = (fields: ErrorFields): void => {
    if (queue.peek() !== undefined && upstream.backendKey !== null) {
      void sendCancel({ host: client.target.host, port: client.target.port, tls: client.target.tls, ...upstream.backendKey });
    }
    end(fields);
  };
  // the token's expiry, a policy change or an admin change to its connection or issuer ends the session
  const validity = watchSessionValidity(ctx, client, endNow);
  // so does an audit log that can no longer record (what the session did next would go unrecorded), or is far behind
  /** set once the session is to end when what it sent is answered (and recorded): nothing more is read from the client */
  let endWhenAnswered: ErrorFields | undefined;
  const stopAuditWatch = ctx.audit.onFailure?.(({ code, message, answerFirst }) => {
    const fields: ErrorFields = { severity: "FATAL", code, message: `session ended: ${message}` };
    if (!answerFirst || queue.outstanding === 0) return endNow(fields);
    // the server runs what it was sent whether or not its answers are read: they are read, and recorded, first
    endWhenAnswered = fields;
    socket.pause();
    // in the extended protocol the server holds its answers until a Sync or Flush the client may not have sent
    server.write(FLUSH);
    setTimeout(() => endNow(fields), ANSWER_FIRST_MS).unref();
  });

  const take = (outcome: GateOutcome, forward: Buffer[]): void => {
    if (outcome.refused !== undefined) {
      const { info, error, approval } = outcome.refused;
      const { decision, text } = info;
      ctx.audit.statement({
        sessionId, text, effect: decision.effect, rules: decision.rules, reason: decision.reason, rows: 0, bytes: 0, durationMs: 0, refused: true,
        ...(error !== undefined && { error }), ...(approval !== undefined && { approval }),
      });
    }
    forward.push(...outcome.forward);
  };

  let holding = false;
  /** what the client sent while a statement was held, processed once it is decided */
  const waiting: Buffer[] = [];
  let waitingBytes = 0;
  /** set while the client is not read for the audit log's backlog: what the framer holds waits */
  let auditWait: Promise<void> | undefined;
  /** set while the client is not read because it has too many messages unanswered */
  let pipelineFull = false;
  /** reads the client again, unless a held statement, the audit log's backlog, the unanswered messages or the session's end still stop it */
  const resumeClient = (): void => {
    if (!holding && auditWait === undefined && !pipelineFull && endWhenAnswered === undefined && !ended) socket.resume();
  };
  /**
   * true while the client has MAX_UNANSWERED messages waiting for their answers: the socket is
   * paused until half are answered. The server holds its answers in the extended protocol until a
   * Sync or Flush, so pausing sends a Flush after what `forward` holds (it has no answer).
   */
  const pipelineBehind = (forward: Buffer[]): boolean => {
    if (pipelineFull) return true;
    if (queue.outstanding < MAX_UNANSWERED) return false;
    pipelineFull = true;
    socket.pause();
    forward.push(FLUSH);
    return true;
  };
  /** after answers went out: reads the client again once half its unanswered messages are answered */
  const pipelineDrained = (): void => {
    if (!pipelineFull || queue.outstanding > MAX_UNANSWERED / 2) return;
    pipelineFull = false;
    fromClient(null);
    resumeClient();
  };
  /** true while the audit log's backlog stops the client: the socket is paused until it drains */
  const auditBehind = (): boolean => {
    if (auditWait !== undefined) return true;
    const drained = ctx.audit.backpressure?.();
    if (drained === undefined) return false;
    socket.pause();
    auditWait = drained.then(() => {
      auditWait = undefined;
      fromClient(null);
      resumeClient();
    });
    return true;
  };
  /** chunk null: go on with what the framer still holds */
  const fromClient = (chunk: Buffer | null): void => {
    if (ended) return;
    try {
      if (holding) {
        if (chunk === null) return;
        waitingBytes += chunk.length;
        if (waitingBytes > MAX_CLIENT_MESSAGE) throw new FramingError("too much data sent while a statement is held for approval");
        waiting.push(chunk);
        return;
      }
      if (chunk !== null) clientFramer.push(chunk);
      const forward: Buffer[] = [];
      for (;;) {
        if (endWhenAnswered !== undefined || auditBehind() || pipelineBehind(forward)) break;
        const piece = clientFramer.next();
        if (piece === null) break;
        if (piece.kind !== "message") throw new FramingError("unexpected raw bytes");
        if (piece.type === TERMINATE) {
          writeAll(server, forward);
          return end();
        }
        const outcome = gate.handle(piece.type, piece.frame);
        take(outcome, forward);
        if (outcome.hold !== undefined) {
          holding = true;
          socket.pause();
          writeAll(server, forward);
          void hold(outcome.hold);
          return;
        }
      }
      if (!writeAll(server, forward)) {
        socket.pause();
        server.once("drain", resumeClient);
      }
    } catch (err) {
      fail(err);
    }
  };

  /** the gateway's own message to the client, written only between two upstream messages */
  let notice: Buffer | null = null;
  const flushNotice = (): void => {
    if (notice === null || ended || !rewriter.atBoundary) return;
    socket.write(notice);
    notice = null;
  };

  const hold = async (held: HeldMessage): Promise<void> => {
    let outcome: GateOutcome;
    try {
      outcome = await decideHeld(held);
    } catch (err) {
      if (ended) return; // the client left while its statement was held; the request stays for a re-run
      return fail(err);
    }
    if (ended) return;
    const forward: Buffer[] = [];
    take(outcome, forward);
    writeAll(server, forward);
    holding = false;
    fromClient(null);
    while (!holding && !ended && waiting.length > 0) {
      const next = waiting.shift()!;
      waitingBytes -= next.length;
      fromClient(next);
    }
    resumeClient();
  };

  const decideHeld = async (held: HeldMessage): Promise<GateOutcome> => {
    if (held.info.maskCheck === true) {
      const reason = await catalogRefusal(held);
      if (reason !== null) held.info.decision = { ...held.info.decision, effect: "deny", reason };
    }
    if (held.info.decision.effect !== "review" || ctx.approvals === undefined) return gate.proceed(held);
    cancelHold = new AbortController();
    try {
      return await waitForVerdict(held, cancelHold.signal);
    } finally {
      cancelHold = null;
    }
  };

  /** the catalog's verdict on what the statement stores or changes; a catalog that cannot answer refuses it */
  const catalogRefusal = async (held: HeldMessage): Promise<string | null> => {
    try {
      return await columnMasks!.catalogRefusal(held.info);
    } catch (err) {
      log.warn({ err }, "catalog lookup for a statement in a session with column masks failed");
      return `the catalog could not tell whether this statement reaches masked data (${(err as Error).message}): not run`;
    }
  };

  const waitForVerdict = async (held: HeldMessage, canceled: AbortSignal): Promise<GateOutcome> => {
    const approvals = ctx.approvals!;
    let ticket;
    try {
      ticket = await approvals.hold({ sessionId, identity: client.identity, connection: client.connection, text: held.info.text, decision: held.info.decision });
    } catch (err) {
      log.error({ err }, "approval request could not be recorded");
      return gate.refuseHeld(held, `approval required, but the request could not be recorded (${(err as Error).message}): statement not run`);
    }
    const approvers = (held.info.decision.reviewRules ?? []).map((r) => `${r.id} (approvers: ${r.approvers.join(", ")})`).join("; ");
    notice = noticeResponse({
      message: `statement held for approval: request ${ticket.id}${ticket.attached ? " (already pending)" : ""}; approve at ${ticket.url}`,
      detail: `${held.info.decision.reason}${approvers ? ` — ${approvers}` : ""}; expires ${ticket.expiresAt.toISOString()}`,
      hint: "the statement runs once approved; a denial or the expiry returns an error and the session goes on",
    });
    chain = chain.then(flushNotice);
    log.info({ approval: ticket.id, attached: ticket.attached }, "statement held for approval");
    let verdict;
    try {
      verdict = await ticket.wait(AbortSignal.any([stopWaiting.signal, canceled]));
    } catch (err) {
      // the request stays pending, as when the client leaves: running the statement again attaches to it
      if (!canceled.aborted || ended) throw err;
      log.info({ approval: ticket.id }, "held statement canceled by the client");
      return gate.refuseHeld(held, `canceling statement due to user request: it was held for approval (request ${ticket.id} stays pending; run the statement again to wait for it)`, "57014");
    }
    log.info({ approval: ticket.id, outcome: verdict.outcome }, "held statement decided");
    return gate.release(held, verdict, ticket.id);
  };

  let chain = Promise.resolve();
  /** upstream chunks whose rewriting waits on the catalog, handled in order on `chain` */
  let waitingChunks = 0;
  /** writes a rewritten chunk; false: the upstream is paused until the client's socket drains */
  const toClient = (out: Buffer[]): boolean => {
    const written = writeAll(socket, out);
    flushNotice();
    if (endWhenAnswered !== undefined && queue.outstanding === 0) end(endWhenAnswered);
    pipelineDrained();
    if (!written) {
      server.pause();
      socket.once("drain", () => server.resume());
    }
    return written;
  };
  const fromServer = (chunk: Buffer): void => {
    if (ended) return;
    if (waitingChunks > 0) return later(() => rewriter.process(chunk));
    // the common case: rewritten and written in this turn, the upstream keeps flowing
    let out: Buffer[] | Promise<Buffer[]>;
    try {
      out = rewriter.process(chunk);
    } catch (err) {
      return fail(err);
    }
    if (out instanceof Promise) {
      const pending = out;
      pending.catch(() => undefined); // rejections are handled in order on the chain
      return later(() => pending);
    }
    toClient(out);
  };
  const later = (rewrite: () => Buffer[] | Promise<Buffer[]>): void => {
    server.pause();
    waitingChunks += 1;
    chain = chain.then(async () => {
      try {
        if (ended) return;
        const out = await rewrite();
        if (!ended && toClient(out)) server.resume();
      } catch (err) {
        fail(err);
      } finally {
        waitingChunks -= 1;
      }
    });
  };

  await new Promise<void>((resolve) => {
    let open = 2;
    const closed = (): void => {
      open -= 1;
      if (open === 0) resolve();
      else end();
    };
    socket.once("close", closed);
    server.once("close", () => {
      end(rewriter.closedMidMessage());
      closed();
    });
    socket.on("error", (err) => log.debug({ err }, "client socket error"));
    server.on("error", (err) => log.debug({ err }, "upstream socket error"));
    socket.on("data", fromClient);
    server.on("data", fromServer);
    if (client.pending.length > 0) fromClient(client.pending);
    if (upstream.pending.length > 0) fromServer(upstream.pending);
  });
  validity.stop();
  stopAuditWatch?.();
  if (key !== null) deps.cancels.unregister(key.pid);
  ctx.metrics?.sessionClosed();
  ctx.audit.sessionEnded({
    sessionId, endedAt: new Date(), rows: rewriter.sessionRows, bytes: rewriter.sessionBytes, ...(endError ? { error: endError } : {}),
  });
  log.info({ rows: rewriter.sessionRows, bytes: rewriter.sessionBytes }, "session ended");
}

/**
 * Small pieces are copied into one buffer: a memcpy costs less than a stream write per piece.
 * A few large ones (a masked run, a row rebuilt across a chunk edge, the rest of the chunk) go
 * out in one writev instead: copying them would allocate a chunk-sized buffer per chunk.
 */
const COALESCE_BYTES = 16 * 1024;
const MAX_WRITEV_PIECES = 16;

/** many messages → one write (small) or one writev (large); returns false when the socket wants a drain */
function writeAll(socket: Socket, buffers: Buffer[]): boolean {
  if (buffers.length === 0) return true;
  if (buffers.length === 1) return socket.write(buffers[0]!);
  const whole = contiguous(buffers);
  if (whole !== null) return socket.write(whole);
  let total = 0;
  for (const buffer of buffers) total += buffer.length;
  if (total <= COALESCE_BYTES || buffers.length > MAX_WRITEV_PIECES) return socket.write(Buffer.concat(buffers, total));
  socket.cork();
  let ok = true;
  for (const buffer of buffers) ok = socket.write(buffer) && ok;
  socket.uncork();
  return ok;
}

/**
 * The buffers as one view when they are adjacent pieces of one chunk — what is left of a chunk
 * the gateway forwarded unchanged, cut into messages — so it is written without a copy.
 */
function contiguous(buffers: Buffer[]): Buffer | null {
  const first = buffers[0]!;
  let end = first.byteOffset + first.length;
  for (let i = 1; i < buffers.length; i++) {
    const next = buffers[i]!;
    if (next.buffer !== first.buffer || next.byteOffset !== end) return null;
    end += next.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
}

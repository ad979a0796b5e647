// The gateway's current bundle (DESIGN.md §3): loaded at start, reloaded when the file
// changes (watched) and on an interval (files, URLs and S3 objects), never replaced by a bundle that
// fails to fetch, verify or load. With no good bundle, current() is undefined and the
// gateway refuses every connection.
//
// Rollback: whoever controls the location (or the way to it) could serve an older bundle that
// is still validly signed. Once a bundle is in force, a signed bundle replaces it only when
// - it is dated: the JWS protected header's signed `iat` (`hoopgate compile --sign` sets it),
// - not before the bundle in force (when that one is dated), and
// - it is not a document this source had in force and replaced (their sha256 are kept: a
//   replay dated the same second as its successor).
// A deliberate return to an older policy is signed again (a new `iat`), or deployed through
// the admin API (permit()). Not covered: what happened before this process started — the first
// bundle it loads is taken dated or not, whatever its date (nothing is persisted) — and a
// location that keeps serving the bundle in force while newer ones are withheld (freshness is
// not checked). Development JSON bundles (allow_unsigned) are not held to any of it: anyone who
// can write their location can write any bundle.

import { createHash } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import type { BundleConfig } from "../config/types.js";
import type { Engine } from "../engine/index.js";
import type { Logger } from "../log.js";
import { decodeBundleDocument } from "./decode.js";
import { fetchBundleText } from "./fetch.js";
import { bundleOrigin, scrubOrigin } from "./origin.js";

export interface BundleStatus {
  /** file path, URL or s3:// URL; a URL without its userinfo, query string or fragment (origin.ts) */
  origin: string;
  /** the engine in force: its bundle's sha256 and when it was loaded */
  sha256?: string;
  loadedAt?: Date;
  /** the signed issue time (`iat`) of the bundle in force, when it has one */
  issuedAt?: Date;
  /** the latest failure, cleared by the next successful load */
  lastError?: string;
  lastErrorAt?: Date;
}

type ChangeListener = (engine: Engine) => void;

/** Editors and `mv` produce bursts of events; one reload after the burst is enough. */
const WATCH_DEBOUNCE_MS = 100;

/** Replaced signed documents remembered; past it the oldest are forgotten (a bundle a day for 27 years). */
const MAX_REPLACED = 10_000;

/** sha256 of a bundle document as the source compares them: surrounding whitespace does not count. */
export function documentDigest(text: string): string {
  return createHash("sha256").update(text.trim()).digest("hex");
}

export class BundleSource {
  private engine: Engine | undefined;
  private readonly state: BundleStatus;
  private readonly listeners = new Set<ChangeListener>();
  /** documentDigest of the text last loaded, or last refused: unchanged text is not reprocessed */
  private loadedDigest: string | undefined;
  private refusedDigest: string | undefined;
  /** the bundle in force is signed, and its `iat` if it has one */
  private loadedSigned = false;
  private loadedIssuedAt: number | undefined;
  /** documentDigest of every signed document that was in force and was replaced, oldest first */
  private readonly replaced = new Set<string>();
  /** documents an admin deployed on purpose (permit()): not held to the rollback rules */
  private readonly permitted = new Set<string>();
  private queue: Promise<boolean> = Promise.resolve(false);
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private missingLogged = false;

  constructor(
    private readonly config: BundleConfig,
    private readonly logger: Logger,
  ) {
    const { location } = config;
    this.state = { origin: bundleOrigin(location) };
  }

  /** Loads once, then watches and polls. Resolves even when no bundle could be loaded. */
  async start(): Promise<void> {
    await this.reload();
    const { location } = this.config;
    if (location.kind === "file") this.watchFile(location.path);
    this.timer = setInterval(() => void this.reload(), this.config.reloadIntervalMs);
    this.timer.unref();
  }

  current(): Engine | undefined {
    return this.engine;
  }

  status(): BundleStatus {
    return { ...this.state };
  }

  /** Called with each newly loaded engine; returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Lets the document with this documentDigest in even if it would be a rollback: an
   * authenticated admin deploys it on purpose (runtime/api/admin/bundle-deploy.ts). Good for
   * one install; replaced later, it is held to the rules again.
   */
  permit(digest: string): void {
    this.permitted.add(digest);
    if (this.refusedDigest === digest) this.refusedDigest = undefined;
  }

  /** Fetches and, when the bundle changed and is good, installs it; true when it did. Never throws. */
  reload(): Promise<boolean> {
    this.queue = this.queue.then(() => this.loadOnce());
    return this.queue;
  }

  close(): void {
    this.watcher?.close();
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    this.listeners.clear();
  }

  private async loadOnce(): Promise<boolean> {
    let text: string | undefined;
    try {
      text = await fetchBundleText(this.config.location);
    } catch (error) {
      this.fail(`cannot read the bundle: ${(error as Error).message}`);
      return false;
    }
    if (text === undefined) {
      if (!this.missingLogged) this.logger.warn({ origin: this.state.origin, inForce: this.state.sha256 }, "no bundle file");
      this.missingLogged = true;
      return false;
    }
    this.missingLogged = false;
    const digest = documentDigest(text);
    if (digest === this.loadedDigest || digest === this.refusedDigest) return false;
    let decoded;
    try {
      decoded = await decodeBundleDocument(text, this.config);
      if (decoded.signed && !this.permitted.has(digest)) this.refuseRollback(digest, decoded.issuedAt);
    } catch (error) {
      this.refusedDigest = digest;
      this.fail((error as Error).message);
      return false;
    }
    this.install(decoded.engine, digest, decoded.signed, decoded.issuedAt);
    return true;
  }

  /** Throws when a signed document would take the policy back (see the top of this file). */
  private refuseRollback(digest: string, issuedAt: number | undefined): void {
    const again = "a rollback is refused: sign the bundle again to put it back in force, or deploy it through the admin API";
    if (this.replaced.has(digest)) {
      throw new Error(`bundle refused: this document was in force earlier and has been replaced since; ${again}`);
    }
    if (this.engine === undefined) return;
    if (issuedAt === undefined) {
      throw new Error("bundle refused: it has no signed issue time (iat), and only a dated bundle replaces the one in force (an undated one could be an older one served again); sign it with hoopgate compile --sign, which dates it, or deploy it through the admin API");
    }
    const inForce = this.loadedIssuedAt;
    if (inForce !== undefined && issuedAt < inForce) {
      throw new Error(`bundle refused: issued at ${iso(issuedAt)}, before the bundle in force (issued at ${iso(inForce)}); ${again}`);
    }
  }

  private install(engine: Engine, digest: string, signed: boolean, issuedAt: number | undefined): void {
    if (this.loadedDigest !== undefined && this.loadedSigned) {
      this.replaced.add(this.loadedDigest);
      if (this.replaced.size > MAX_REPLACED) this.replaced.delete(this.replaced.values().next().value!);
    }
    this.replaced.delete(digest);
    this.permitted.delete(digest);
    this.engine = engine;
    this.loadedDigest = digest;
    this.loadedSigned = signed;
    this.loadedIssuedAt = issuedAt;
    this.refusedDigest = undefined;
    this.state.sha256 = engine.bundle.sha256;
    this.state.loadedAt = new Date();
    if (issuedAt === undefined) delete this.state.issuedAt;
    else this.state.issuedAt = new Date(issuedAt * 1000);
    delete this.state.lastError;
    delete this.state.lastErrorAt;
    this.logger.info({ origin: this.state.origin, sha256: engine.bundle.sha256, ...(issuedAt !== undefined && { issuedAt: iso(issuedAt) }) }, "bundle loaded");
    for (const listener of this.listeners) {
      try {
        listener(engine);
      } catch (error) {
        this.logger.error({ err: error }, "bundle change listener failed");
      }
    }
  }

  private fail(error: string): void {
    // shown by GET /api/bundle and logged: never the URL's query string or userinfo
    const message = scrubOrigin(error, this.config.location);
    this.state.lastError = message;
    this.state.lastErrorAt = new Date();
    const keeping = this.state.sha256 === undefined ? "no bundle is in force: every connection is refused" : "keeping the last good bundle";
    this.logger.error({ origin: this.state.origin, inForce: this.state.sha256, error: message }, `bundle refused; ${keeping}`);
  }

  /**
   * Watches the directory, not the file, so replacing the file (rename, Kubernetes ConfigMap
   * swap of `..data`) keeps working; events for other files in the directory are ignored.
   */
  private watchFile(path: string): void {
    const name = basename(path);
    try {
      this.watcher = watch(dirname(path), { persistent: false }, (_event, changed) => {
        if (changed !== null && changed !== name && !changed.startsWith("..")) return;
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.reload(), WATCH_DEBOUNCE_MS);
      });
      this.watcher.on("error", (error) => this.logger.warn({ err: error, origin: path }, "bundle watch failed; polling only"));
    } catch (error) {
      this.logger.warn({ err: error, origin: path }, "cannot watch the bundle's directory; polling only");
    }
  }
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

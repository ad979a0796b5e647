// The gateway's current bundle (DESIGN.md §3): loaded at start, reloaded when the file
// changes (watched) and on an interval (files, URLs and S3 objects), never replaced by a bundle that
// fails to fetch, verify or load. With no good bundle, current() is undefined and the
// gateway refuses every connection.

import { createHash } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import type { BundleConfig } from "../config/types.js";
import type { Engine } from "../engine/index.js";
import type { Logger } from "../log.js";
import { decodeBundle } from "./decode.js";
import { fetchBundleText } from "./fetch.js";
import { bundleOrigin, scrubOrigin } from "./origin.js";

export interface BundleStatus {
  /** file path, URL or s3:// URL; a URL without its userinfo, query string or fragment (origin.ts) */
  origin: string;
  /** the engine in force: its bundle's sha256 and when it was loaded */
  sha256?: string;
  loadedAt?: Date;
  /** the latest failure, cleared by the next successful load */
  lastError?: string;
  lastErrorAt?: Date;
}

type ChangeListener = (engine: Engine) => void;

/** Editors and `mv` produce bursts of events; one reload after the burst is enough. */
const WATCH_DEBOUNCE_MS = 100;

export class BundleSource {
  private engine: Engine | undefined;
  private readonly state: BundleStatus;
  private readonly listeners = new Set<ChangeListener>();
  /** sha256 of the raw text last loaded, or last refused: unchanged text is not reprocessed */
  private loadedDigest: string | undefined;
  private refusedDigest: string | undefined;
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
    const digest = createHash("sha256").update(text).digest("hex");
    if (digest === this.loadedDigest || digest === this.refusedDigest) return false;
    let engine: Engine;
    try {
      engine = await decodeBundle(text, this.config);
    } catch (error) {
      this.refusedDigest = digest;
      this.fail((error as Error).message);
      return false;
    }
    this.install(engine, digest);
    return true;
  }

  private install(engine: Engine, digest: string): void {
    this.engine = engine;
    this.loadedDigest = digest;
    this.refusedDigest = undefined;
    this.state.sha256 = engine.bundle.sha256;
    this.state.loadedAt = new Date();
    delete this.state.lastError;
    delete this.state.lastErrorAt;
    this.logger.info({ origin: this.state.origin, sha256: engine.bundle.sha256 }, "bundle loaded");
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

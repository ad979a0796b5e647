// Which held statements to wake when a request is decided: one LISTEN per store on the
// approvals channel (PostgreSQL: NOTIFY from any replica; PGlite: in-process), fanned out to
// the waiters of that request id.

import type { Logger } from "../log.js";
import type { Store } from "../store/types.js";
import { APPROVALS_CHANNEL } from "./repository.js";

export class Wakeups {
  private readonly waiters = new Map<string, Set<() => void>>();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(private readonly store: Store, private readonly logger: Logger) {}

  async start(): Promise<void> {
    this.unlisten = await this.store.listen(APPROVALS_CHANNEL, (id) => this.wake(id));
  }

  /** `wake` runs on every notification for `id` until the returned function is called */
  on(id: string, wake: () => void): () => void {
    let set = this.waiters.get(id);
    if (set === undefined) {
      set = new Set();
      this.waiters.set(id, set);
    }
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
    };
  }

  wake(id: string): void {
    for (const wake of this.waiters.get(id) ?? []) {
      try {
        wake();
      } catch (err) {
        this.logger.error({ err, approval: id }, "approval waiter failed");
      }
    }
  }

  async close(): Promise<void> {
    await this.unlisten?.();
    this.unlisten = undefined;
  }
}

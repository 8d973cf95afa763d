import { ActorDirectory } from "./actors.js";
import type { DaemonContext } from "./context.js";
import { errorFields } from "./log.js";

/** Store setting: other actors' handles (`user@host`) by actor id. */
export const SETTINGS_HANDLES = "handles";

/**
 * Other members' handles, learned from their actor documents (`preferredUsername@host`, as WebFinger has it)
 * and kept in the store, so conversations can be found by handle as well as by actor id. Learning happens in
 * the background after a group shows a new actor; an actor that cannot be fetched keeps `handle: null` and is
 * tried again the next time a group shows it.
 */
export class Handles {
  readonly #ctx: DaemonContext;
  readonly #pending = new Map<string, Promise<void>>();
  readonly #abort = new AbortController();

  constructor(ctx: DaemonContext) {
    this.#ctx = ctx;
  }

  #known(): Readonly<Record<string, string>> {
    return (this.#ctx.store.setting(SETTINGS_HANDLES) as Record<string, string> | undefined) ?? {};
  }

  handle(actorId: string): string | null {
    return this.#known()[actorId] ?? null;
  }

  /** Starts learning the handles of these actors that are not known yet. */
  learn(actorIds: readonly string[]): void {
    const known = this.#known();
    for (const actorId of actorIds) {
      if (this.#abort.signal.aborted || known[actorId] !== undefined || this.#pending.has(actorId)) continue;
      const work = this.#learn(actorId).finally(() => this.#pending.delete(actorId));
      this.#pending.set(actorId, work);
    }
  }

  async #learn(actorId: string): Promise<void> {
    try {
      const actor = await this.#ctx.directory.actor(actorId, { signal: this.#abort.signal });
      const handle = ActorDirectory.handleOf(actor);
      if (handle === null || this.#abort.signal.aborted) return;
      this.#ctx.apply({ settings: { [SETTINGS_HANDLES]: { ...this.#known(), [actorId]: handle } as never } });
    } catch (error) {
      if (!this.#abort.signal.aborted)
        this.#ctx.log.warn("handle_unknown", { actor: actorId, ...errorFields(error) });
    }
  }

  /** Stops learning and waits for what is under way (before the store closes). */
  async close(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled([...this.#pending.values()]);
  }
}

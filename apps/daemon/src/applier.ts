import type { ApplyResult, Store, Unit } from "@sotto/storage";
import { groupRecord, type LoadedConversation } from "./groups.js";

/**
 * How the daemon writes a unit: with the durability it needs, keeping the cache of decoded conversations in
 * step, and, inside a receive batch, writing each conversation's MLS state once at the end of the batch
 * instead of once per message (the batch is one transaction: the states commit with the messages or not at
 * all).
 */
export class Applier {
  readonly #store: Store;
  readonly #conversations: Map<string, LoadedConversation>;
  readonly #onRelaxed: () => void;
  /** States of the open batch not written yet, by group id. */
  readonly #deferred = new Map<string, LoadedConversation>();
  /** A unit of the open batch must be durable when the batch commits. */
  #durable = false;

  constructor(
    store: Store,
    conversations: Map<string, LoadedConversation>,
    /** Called after a relaxed commit outside a batch: something must flush soon. */
    onRelaxed: () => void,
  ) {
    this.#store = store;
    this.#conversations = conversations;
    this.#onRelaxed = onRelaxed;
  }

  /** See `DaemonContext.apply`. */
  apply(
    unit: Unit,
    states: readonly LoadedConversation[] = [],
    options: { durable?: boolean } = {},
  ): ApplyResult {
    const store = this.#store;
    // What will be posted must not be undone by a power loss after it left: such a unit waits for the disk.
    const durable = options.durable !== false || (unit.outbox?.length ?? 0) > 0;
    const defer = store.batching && !durable;
    const written: Unit =
      defer || states.length === 0
        ? unit
        : {
            ...unit,
            groups: [...(unit.groups ?? []), ...states.map((l) => groupRecord(l.conversation, l.info))],
          };
    // A unit that writes a group's state now started from its newest one, which the store must hold first:
    // should the unit fail, the cache entry goes and the state is read back from the store.
    if ((written.groups ?? []).some((g) => this.#deferred.has(g.id))) this.writeDeferred();
    let result: ApplyResult;
    try {
      result = store.apply(written, { durable });
    } finally {
      for (const group of written.groups ?? []) this.#conversations.delete(group.id);
    }
    if (result.applied) {
      for (const l of states) {
        this.#conversations.set(l.conversation.groupId, l);
        if (defer) this.#deferred.set(l.conversation.groupId, l);
      }
    }
    if (store.batching) this.#durable ||= durable && result.applied;
    else if (store.unflushed) this.#onRelaxed();
    return result;
  }

  /** Writes the states deferred in the open batch (each group once, its newest state). */
  writeDeferred(): void {
    if (this.#deferred.size === 0) return;
    const states = [...this.#deferred.values()];
    this.#store.apply({ groups: states.map((l) => groupRecord(l.conversation, l.info)) }, { durable: false });
    this.#deferred.clear();
  }

  /**
   * The batch is over: committed, or rolled back (then the cache may hold states the store never got, and
   * goes). Returns whether a unit of it must be durable (sync before anything it queued is posted).
   */
  endBatch(committed: boolean): boolean {
    const durable = this.#durable;
    this.#durable = false;
    this.#deferred.clear();
    if (!committed) this.#conversations.clear();
    return committed && durable;
  }
}

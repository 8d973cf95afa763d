import type { Conversation } from "@sotto/core";
import type { ApplyResult, Cursor, Store, Unit } from "@sotto/storage";
import { groupRecord, type LoadedConversation } from "./groups.js";
import { errorFields, type Logger } from "./log.js";

/** At most this long between a relaxed commit and the disk sync that makes it durable. */
const FLUSH_DELAY_MS = 1000;

/**
 * How the daemon writes a unit: with the durability it needs (relaxed units are flushed within
 * `FLUSH_DELAY_MS`, and synced before anything they queued is posted: `beforePost`), keeping the cache of decoded conversations in
 * step, and, inside a receive batch, writing each conversation's MLS state and the reading position once at
 * the end of the batch instead of once per message (the batch is one transaction: they commit with the
 * messages or not at all).
 */
export class Applier {
  readonly #store: Store;
  readonly #conversations: Map<string, LoadedConversation>;
  readonly #log: Logger;
  /** States of the open batch not written yet, by group id. */
  readonly #deferred = new Map<string, LoadedConversation>();
  /** The newest reading position of the open batch, not written yet (one write per batch, not per item). */
  #deferredCursor: Cursor | undefined;
  /** The open batch must be flushed when it commits: a unit of it must be durable, or a flush came due. */
  #flushOnCommit = false;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** Settles when the open batch ends. */
  #batchDone: Promise<void> | undefined;
  /** A unit that queued something to post was committed relaxed and not synced since. */
  #queuedUnsynced = false;

  constructor(store: Store, conversations: Map<string, LoadedConversation>, log: Logger) {
    this.#store = store;
    this.#conversations = conversations;
    this.#log = log;
  }

  /** See `DaemonContext.apply`. */
  apply(
    unit: Unit,
    states: readonly LoadedConversation[] = [],
    options: { durable?: boolean } = {},
  ): ApplyResult {
    const store = this.#store;
    // What will be posted must not be undone by a power loss after it left, so it is on disk before it leaves:
    // a unit that queues something commits relaxed, and the outbox syncs the store before each post
    // (`beforePost`), once for every unit queued meanwhile (a burst of sends: one sync, not one each).
    const queues = (unit.outbox ?? []).some((o) => o.op === "enqueue");
    const durable = options.durable !== false && !queues;
    const defer = store.batching && options.durable === false && !queues;
    const { cursor, ...rest } = unit;
    const written: Unit = defer
      ? rest
      : states.length === 0
        ? unit
        : {
            ...unit,
            groups: [...(unit.groups ?? []), ...states.map((l) => groupRecord(l.conversation, l.info))],
          };
    // A unit that writes a group's state now started from its newest one, which the store must hold first:
    // should the unit fail, the cache entry goes and the state is read back from the store.
    if ((written.groups ?? []).some((g) => this.#deferred.has(g.id))) this.#writeDeferred();
    let result: ApplyResult;
    try {
      result = store.apply(written, { durable });
    } finally {
      for (const group of written.groups ?? []) this.#conversations.delete(group.id);
    }
    if (result.applied && cursor !== undefined) {
      // Items come in order: a unit's position is past every earlier one's, deferred or written.
      this.#deferredCursor = defer ? cursor : undefined;
    }
    if (result.applied) {
      for (const l of states) {
        this.#conversations.set(l.conversation.groupId, l);
        if (defer) this.#deferred.set(l.conversation.groupId, l);
      }
    }
    if (queues && result.applied) this.#queuedUnsynced = true;
    if (store.batching) this.#flushOnCommit ||= durable && result.applied;
    else if (store.unflushed) this.#flushSoon();
    return result;
  }

  /**
   * Makes what was queued durable before the outbox posts it: one disk sync for every unit that queued
   * something since the last (and whatever was committed before them). Other relaxed units (received
   * activities, sent marks) need not reach the disk before a post. An open receive batch (its turns let the
   * outbox run) is waited for first: the store syncs only after it commits.
   */
  async beforePost(): Promise<void> {
    while (this.#store.batching && this.#batchDone !== undefined) await this.#batchDone;
    if (!this.#queuedUnsynced) return;
    this.#store.sync();
    this.#queuedUnsynced = false;
  }

  /**
   * Runs `fn` in one relaxed store batch (see `Store.batch`), writing the states it deferred before the
   * commit. Then syncs the disk at once if a unit of it asked to be durable or a flush came due while it was
   * open, else within `FLUSH_DELAY_MS`. A batch that fails leaves nothing in the store, and the cache is
   * cleared: it may hold states the store never got.
   */
  async batch(fn: () => Promise<void>): Promise<void> {
    let done = () => {};
    this.#batchDone = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      await this.#batch(fn);
    } finally {
      this.#batchDone = undefined;
      done();
    }
  }

  async #batch(fn: () => Promise<void>): Promise<void> {
    try {
      await this.#store.batch(
        async () => {
          await fn();
          this.#writeDeferred();
        },
        { durable: false },
      );
    } catch (error) {
      this.#endBatch();
      this.#conversations.clear();
      // What was committed before it still has to reach the disk (a flush may have come due meanwhile).
      if (this.#store.unflushed) this.#flushSoon();
      throw error;
    }
    if (this.#endBatch()) this.#store.flush();
    else if (this.#store.unflushed) this.#flushSoon();
  }

  /**
   * Puts a conversation's newer state in place of the cached one, in the open batch's deferred write too, for
   * a state computed apart from `apply` (decryptAhead.ts): its info and members stay as they were.
   */
  replaceState(groupId: string, conversation: Conversation): void {
    const cached = this.#conversations.get(groupId);
    if (cached !== undefined) this.#conversations.set(groupId, { ...cached, conversation });
    const deferred = this.#deferred.get(groupId);
    if (deferred !== undefined) this.#deferred.set(groupId, { ...deferred, conversation });
  }

  /** Stops the pending flush (the daemon is stopping: closing the store syncs it). */
  close(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
  }

  /** Writes the states deferred in the open batch (each group once, its newest state) and its position. */
  #writeDeferred(): void {
    const cursor = this.#deferredCursor;
    if (this.#deferred.size === 0 && cursor === undefined) return;
    const states = [...this.#deferred.values()];
    this.#store.apply(
      {
        groups: states.map((l) => groupRecord(l.conversation, l.info)),
        ...(cursor === undefined ? {} : { cursor }),
      },
      { durable: false },
    );
    this.#deferred.clear();
    this.#deferredCursor = undefined;
  }

  /** Resets the batch's bookkeeping; returns whether the store must be flushed now. */
  #endBatch(): boolean {
    const flush = this.#flushOnCommit;
    this.#flushOnCommit = false;
    this.#deferred.clear();
    this.#deferredCursor = undefined;
    return flush;
  }

  /** Bounds what a power loss can undo of relaxed commits. */
  #flushSoon(): void {
    if (this.#flushTimer !== undefined) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      // A batch takes turns of the event loop while it is open; the store is flushed when it commits.
      if (this.#store.batching) {
        this.#flushOnCommit = true;
        return;
      }
      try {
        this.#store.flush();
      } catch (error) {
        this.#log.error("flush_failed", errorFields(error));
      }
    }, FLUSH_DELAY_MS);
    this.#flushTimer.unref();
  }
}

import { type Account, ActivityPubError, backoffDelay } from "@sotto/activitypub";
import { pause } from "@sotto/shared/pause";
import { SEQUENCE_HEADER, SEQUENCED_OUTBOX, SequenceStream } from "@sotto/shared/sequence";
import type { OutboxItem, Store, Unit } from "@sotto/storage";
import type { Counters } from "./counters.js";
import { event } from "./events.js";
import type { OutboxPayload } from "./groups.js";
import { errorFields, type Logger } from "./log.js";

export interface OutboxPolicy {
  /** Attempts before an item is marked failed. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const defaultOutboxPolicy: OutboxPolicy = {
  maxAttempts: 10,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
};

/** Application messages posted at once to a server that keeps their order (`sottoSequencedOutbox`). */
export const PIPELINE = 4;

/**
 * The persistent outbox: items are written in the same transaction as the state change that produced them
 * (`queued`), posted here in order, and marked `sent`, retried with backoff, or `failed` after the last
 * attempt or on an error that retrying cannot fix. A message's own state and its `outbox.state` event move
 * with it. Items of one conversation are posted strictly in queue order (a commit always reaches the server
 * before the messages of the epoch it starts); a conversation waiting on a retry does not hold up the others.
 * Where the server keeps the order of pipelined posts (its actor says `sottoSequencedOutbox`), up to
 * {@link PIPELINE} application messages are in flight at once, numbered (`Sotto-Sequence`) in queue order;
 * anything else (a commit, a Welcome, a KeyPackage) is posted alone, after those before it have settled.
 */
export class OutboxWorker {
  readonly #store: Store;
  readonly #account: Account;
  readonly #log: Logger;
  readonly #counters: Counters;
  readonly #policy: OutboxPolicy;
  readonly #now: () => number;
  readonly #apply: (unit: Unit, options: { durable?: boolean }) => unknown;
  readonly #beforePost: () => void | Promise<void>;
  #wake: (() => void) | undefined;
  #pending = false;
  /** Numbers pipelined posts; undefined until the server is known to keep their order. */
  #sequence: SequenceStream | undefined;

  constructor(
    store: Store,
    account: Account,
    log: Logger,
    counters: Counters,
    options: {
      policy?: Partial<OutboxPolicy>;
      now?: () => number;
      /** How a unit is written (the daemon's: relaxed units are flushed within a second); default `store.apply`. */
      apply?: (unit: Unit, options: { durable?: boolean }) => unknown;
      /**
       * Makes the units before a post durable (what queued it may have committed relaxed); default
       * `store.sync()`.
       */
      beforePost?: () => void | Promise<void>;
    } = {},
  ) {
    this.#store = store;
    this.#account = account;
    this.#log = log.child({ component: "outbox" });
    this.#counters = counters;
    this.#policy = { ...defaultOutboxPolicy, ...options.policy };
    this.#now = options.now ?? Date.now;
    this.#apply = options.apply ?? ((unit, o) => store.apply(unit, o));
    this.#beforePost = options.beforePost ?? (() => store.sync());
  }

  /** Something was queued: post it without waiting for the next round. */
  wake(): void {
    this.#pending = true;
    this.#wake?.();
  }

  /** Posts due items until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.#pending = false;
      const waitMs = await this.flush(signal);
      if (signal.aborted || this.#pending) continue;
      await pause(Math.min(waitMs, 60_000), signal, (wake) => {
        this.#wake = wake;
      });
      this.#wake = undefined;
    }
  }

  /**
   * Conversations whose oldest queued item waits for a retry, with that item's id: their later items wait
   * behind it. Read from the store once, then kept up to date here.
   */
  #blocked: Map<string, string> | undefined;

  /** Posts every due item in order; returns how long until the next one is due. */
  async flush(signal?: AbortSignal): Promise<number> {
    if (this.#blocked === undefined) {
      this.#blocked = new Map();
      for (const head of headsOf(this.#store.outbox("queued"))) {
        if (head.attempts > 0) this.#blocked.set(head.conversation ?? "", head.id);
      }
    }
    const blocked = this.#blocked;
    for (;;) {
      if (signal?.aborted) return 0;
      const now = this.#now();
      // First the items waiting on a retry, each the oldest of its conversation: the rest of it waits for them.
      for (const [conversation, id] of [...blocked]) {
        const head = this.#store.outboxItem(id);
        if (head === undefined || head.state !== "queued") blocked.delete(conversation);
        else if (head.nextAttemptAt <= now) await this.#post(head, signal);
      }
      // Until the next retry: read after the posts above, as a head that failed again has a new time.
      let waitMs = 60_000;
      for (const id of blocked.values()) {
        const head = this.#store.outboxItem(id);
        if (head?.state === "queued") waitMs = Math.min(waitMs, head.nextAttemptAt - this.#now());
      }
      // Then the other due items, oldest first. A conversation held back can fill a page: read further then.
      let ready: OutboxItem[] = [];
      for (let limit = 100; ; limit *= 10) {
        const due = this.#store.outboxDue(now, limit);
        ready = due.filter((item) => !blocked.has(item.conversation ?? ""));
        if (ready.length > 0 || due.length < limit || limit >= 100_000) break;
      }
      if (ready.length === 0) return blocked.size > 0 ? Math.max(1, waitMs) : 60_000;
      const pipeline = (await this.#pipelined(signal)) ? PIPELINE : 1;
      const inFlight = new Set<Promise<void>>();
      for (const item of ready) {
        if (signal?.aborted) break;
        const alone = (item.payload as unknown as OutboxPayload).purpose !== "message";
        while (inFlight.size >= (alone ? 1 : pipeline)) await Promise.race(inFlight);
        // A retry earlier in this batch holds back the rest of its conversation.
        if (blocked.has(item.conversation ?? "")) continue;
        const posting: Promise<void> = this.#post(item, signal).finally(() => inFlight.delete(posting));
        inFlight.add(posting);
        if (alone) await posting;
      }
      // All settled before the next round reads what is due (it would see those in flight as still queued).
      await Promise.all(inFlight);
      if (signal?.aborted) return 0;
    }
  }

  /** Whether the server keeps the order of pipelined posts (read from the account's actor, kept by it). */
  async #pipelined(signal?: AbortSignal): Promise<boolean> {
    if (this.#sequence !== undefined) return true;
    const actor = await this.#account.actor({ signal }).catch(() => undefined);
    if (actor?.raw[SEQUENCED_OUTBOX] !== 1) return false;
    this.#sequence = new SequenceStream();
    return true;
  }

  async #post(item: OutboxItem, signal?: AbortSignal): Promise<void> {
    // Numbered before the first await: in the order the posts start, which is queue order.
    const sequence = this.#sequence?.next();
    const blocked = this.#blocked as Map<string, string>;
    const conversation = item.conversation ?? "";
    const payload = item.payload as unknown as OutboxPayload;
    try {
      // Nothing leaves before the unit that queued it (and the MLS state it advanced) is on disk.
      await this.#beforePost();
      await this.#account.post(
        payload.activity,
        signal,
        sequence === undefined ? undefined : { [SEQUENCE_HEADER]: sequence.header },
      );
      // Relaxed: a power loss may undo the mark (the daemon syncs within a second), and the item is posted again,
      // which a POST that timed out may need anyway (posting is at least once). A disk sync here held up every
      // next post of the conversation, which go one after another.
      this.#apply(
        { outbox: [{ op: "sent", id: item.id }], ...this.#messageState(item, payload, "sent", null) },
        { durable: false },
      );
      if (blocked.get(conversation) === item.id) blocked.delete(conversation);
      this.#counters.add("outbox.sent");
      this.#log.debug("sent", { item: item.id, purpose: payload.purpose });
    } catch (error) {
      if (signal?.aborted) return;
      if (
        payload.purpose === "key_package" &&
        error instanceof ActivityPubError &&
        (error.code === "gone" || error.code === "not_found")
      ) {
        // Retiring a KeyPackage the server already dropped (its Remove may delete it): done.
        this.#store.apply({ outbox: [{ op: "sent", id: item.id }] });
        if (blocked.get(conversation) === item.id) blocked.delete(conversation);
        return;
      }
      const attempts = item.attempts + 1;
      const retryable = error instanceof ActivityPubError ? error.retryable : true;
      const reason = error instanceof ActivityPubError ? error.code : "internal";
      this.#counters.add(`outbox.error.${reason}`);
      if (retryable && attempts < this.#policy.maxAttempts) {
        const delay =
          error instanceof ActivityPubError && error.retryAfterMs !== undefined
            ? error.retryAfterMs
            : backoffDelay(item.attempts, { ...this.#policy, retries: 0, maxRetryAfterMs: 0 });
        this.#store.apply({
          outbox: [
            { op: "retry", id: item.id, error: reason, nextAttemptAt: Math.ceil(this.#now() + delay) },
          ],
        });
        blocked.set(conversation, item.id);
        this.#log.warn("retry", {
          item: item.id,
          attempts,
          delayMs: Math.round(delay),
          ...errorFields(error),
        });
        return;
      }
      this.#store.apply({
        outbox: [{ op: "failed", id: item.id, error: reason }],
        ...this.#messageState(item, payload, "failed", reason),
      });
      if (blocked.get(conversation) === item.id) blocked.delete(conversation);
      this.#counters.add("outbox.failed");
      this.#log.error("failed", { item: item.id, attempts, ...errorFields(error) });
    } finally {
      if (sequence !== undefined) this.#sequence?.settle(sequence.n);
    }
  }

  /** The message's own state and its `outbox.state` event, when the item carries a message. */
  #messageState(
    item: OutboxItem,
    payload: OutboxPayload,
    state: "sent" | "failed",
    error: string | null,
  ): Partial<Unit> {
    if (payload.messageId === undefined) return {};
    const conversationId = item.conversation ?? "";
    return {
      messageStates: [{ id: payload.messageId, state }],
      events: [event({ type: "outbox.state", conversationId, messageId: payload.messageId, state, error })],
    };
  }
}

/** The oldest queued item of each conversation (items come oldest first), in queue order. */
function headsOf(queued: readonly OutboxItem[]): OutboxItem[] {
  const seen = new Set<string>();
  return queued.filter((item) => {
    const key = item.conversation ?? "";
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

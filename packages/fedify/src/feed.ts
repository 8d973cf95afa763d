import type { LoggedActivity } from "./storage.js";

export interface FeedSubscriber {
  next(item: LoggedActivity): void;
  /** The feed is shutting down (server closing). */
  end(): void;
}

export interface ActivityFeedOptions {
  /** Live readers one owner may have at once (default 16): each holds a connection and a timer. */
  readonly maxPerOwner?: number;
}

/** In-process fan-out of newly appended log items to live readers (Server-Sent Events). */
export class ActivityFeed {
  readonly #subscribers = new Map<string, Set<FeedSubscriber>>();
  readonly #maxPerOwner: number;

  constructor(options: ActivityFeedOptions = {}) {
    this.#maxPerOwner = options.maxPerOwner ?? 16;
  }

  /** Whether `owner` has as many live readers as allowed; a new one is then refused. */
  full(owner: string): boolean {
    return (this.#subscribers.get(owner)?.size ?? 0) >= this.#maxPerOwner;
  }

  subscribe(owner: string, subscriber: FeedSubscriber): () => void {
    let set = this.#subscribers.get(owner);
    if (set === undefined) {
      set = new Set();
      this.#subscribers.set(owner, set);
    }
    set.add(subscriber);
    return () => {
      set.delete(subscriber);
      if (set.size === 0) this.#subscribers.delete(owner);
    };
  }

  publish(owner: string, item: LoggedActivity): void {
    for (const subscriber of this.#subscribers.get(owner) ?? []) subscriber.next(item);
  }

  /** Ends every live stream. */
  close(): void {
    for (const set of this.#subscribers.values()) for (const subscriber of set) subscriber.end();
    this.#subscribers.clear();
  }
}

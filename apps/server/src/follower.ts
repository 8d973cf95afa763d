import type { ActivityFeed, LoggedActivity } from "@sotto/fedify";
import { pause } from "@sotto/shared/pause";

/** An item of a log with the local user it belongs to. */
export interface OwnedItem extends LoggedActivity {
  readonly owner: string;
}

/** What a follower reads: a log shared by every process on the database. */
export interface FollowableLog {
  /** Every owner's items with `seq > after`, oldest first. */
  since(after: number, limit: number): Promise<readonly OwnedItem[]>;
  /** The newest position in the whole log (0 when empty). */
  lastSeq(): Promise<number>;
}

export interface LogFollowerOptions {
  /** How often the log is read (default 100 ms). */
  readonly intervalMs?: number;
  /**
   * How long a gap in the positions is waited for before it is skipped (default 1 s). On MariaDB, positions
   * are handed out when a row is inserted but become visible when its transaction commits, so a later one
   * may show first; a rolled-back insert leaves a gap for good.
   */
  readonly gapMs?: number;
  /** Items read per query (default 200). */
  readonly batch?: number;
}

/**
 * Publishes to a live feed (SSE) what any process stored in a shared log, in position order: several web
 * processes on one database each follow it, so a message stored through web A reaches a stream open on web B.
 * Items are published only in order, so a stream never skips one that committed late.
 */
export class LogFollower {
  readonly #log: FollowableLog;
  readonly #feed: ActivityFeed;
  readonly #intervalMs: number;
  readonly #gapMs: number;
  readonly #batch: number;
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  /** Ends the current pause; `#woken` says a wake came while the log was being read. */
  #wakeUp: (() => void) | undefined;
  #woken = false;

  constructor(log: FollowableLog, feed: ActivityFeed, options: LogFollowerOptions = {}) {
    this.#log = log;
    this.#feed = feed;
    this.#intervalMs = options.intervalMs ?? 100;
    this.#gapMs = options.gapMs ?? 1000;
    this.#batch = options.batch ?? 200;
  }

  /** Starts following from the log's current end (older items are replayed by `Last-Event-ID`). */
  async start(): Promise<void> {
    const cursor = await this.#log.lastSeq();
    this.#running = this.#run(cursor);
  }

  async #run(start: number): Promise<void> {
    let cursor = start;
    // When the gap after `cursor` was first seen (undefined: no gap pending).
    let gapSince: number | undefined;
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        for (;;) {
          const items = await this.#log.since(cursor, this.#batch);
          for (const item of items) {
            if (item.seq !== cursor + 1) {
              const now = Date.now();
              gapSince ??= now;
              if (now - gapSince < this.#gapMs) break;
            }
            gapSince = undefined;
            this.#feed.publish(item.owner, item);
            cursor = item.seq;
          }
          if (items.length < this.#batch || gapSince !== undefined || signal.aborted) break;
        }
      } catch {
        // The database is away for a moment: the next round reads again from the same cursor.
      }
      if (this.#woken && gapSince === undefined) {
        this.#woken = false;
        continue;
      }
      await pause(this.#intervalMs, signal, (wake) => {
        this.#wakeUp = () => {
          this.#wakeUp = undefined;
          wake();
        };
      });
      this.#wakeUp = undefined;
    }
  }

  /**
   * Reads the log now instead of at the next interval: this process appended to it, so its own streams get
   * the item at once (other processes' appends still wait for the interval).
   */
  wake(): void {
    this.#woken = true;
    this.#wakeUp?.();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }
}

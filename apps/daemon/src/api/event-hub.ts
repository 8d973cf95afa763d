// Fans the daemon's event log out to subscribed connections. Every subscriber walks the same log in seq order
// with its own cursor, so each event reaches each client once, in the same order, whether it was replayed or
// live. New events are read from the log once per commit and kept in a small window that live subscribers are
// served from; a subscriber that is behind that window reads the log itself, in batches, at its own pace.
import { type ApiEvent, eventFrame } from "@sotto/api";

/** A page of the log: events after the asked seq, and a `gap` when retention dropped some of them. */
export interface EventPage {
  readonly events: readonly ApiEvent[];
  readonly gap: { readonly from: number; readonly to: number } | null;
  /** The latest seq written (0 when none). */
  readonly last: number;
  /** The seq of the last row this page read (`after` when none): where the next page starts. */
  readonly through: number;
}

/** What the API server needs from the store's event log. */
export interface EventLog {
  /** Events with `seq > after`, oldest first, at most `limit`. */
  since(after: number, limit: number): EventPage | Promise<EventPage>;
  /** Calls `listener` after every commit that appended events; returns the unsubscribe function. */
  onCommit(listener: () => void): () => void;
}

/** Where a subscriber's frames go. `send` resolves at once unless the peer is not keeping up. */
export interface EventSink {
  send(frame: string): void | Promise<void>;
  readonly closed: boolean;
}

interface Entry {
  readonly seq: number;
  readonly frame: string;
}

export interface EventHubOptions {
  /** How many recent events to keep in memory for live subscribers (up to twice as many, trimmed in halves). */
  readonly window?: number;
  /** How many events a lagging subscriber reads from the log at once. */
  readonly batch?: number;
  readonly onError?: (error: unknown) => void;
}

export class EventHub {
  readonly #log: EventLog;
  readonly #subscribers = new Set<Subscription>();
  readonly #window: Entry[] = [];
  readonly #windowSize: number;
  readonly #batch: number;
  readonly #onError: (error: unknown) => void;
  readonly #stop: () => void;
  #head = 0;
  #polling: Promise<void> | undefined;
  #pollAgain = false;

  private constructor(log: EventLog, head: number, options: EventHubOptions) {
    this.#log = log;
    this.#head = head;
    this.#windowSize = options.window ?? 4096;
    this.#batch = options.batch ?? 512;
    this.#onError = options.onError ?? (() => {});
    this.#stop = log.onCommit(() => this.#poll());
  }

  static async open(log: EventLog, options: EventHubOptions = {}): Promise<EventHub> {
    return new EventHub(log, (await log.since(0, 0)).last, options);
  }

  get head(): number {
    return this.#head;
  }

  /**
   * Starts sending events after `since` (default: the log's head, i.e. only new ones) to `sink`.
   * Returns the subscription and the head at the time of subscribing.
   */
  async subscribe(sink: EventSink, since?: number): Promise<{ subscription: Subscription; head: number }> {
    const head = (await this.#log.since(0, 0)).last;
    const subscription = new Subscription(this, sink, Math.min(since ?? head, head));
    this.#subscribers.add(subscription);
    return { subscription, head };
  }

  unsubscribe(subscription: Subscription): void {
    this.#subscribers.delete(subscription);
    subscription.cancel();
  }

  close(): void {
    this.#stop();
    for (const s of this.#subscribers) s.cancel();
    this.#subscribers.clear();
  }

  /** Reads what the log committed since our head, once for everyone, then wakes every subscriber. */
  #poll(): void {
    if (this.#polling) {
      this.#pollAgain = true;
      return;
    }
    this.#polling = (async () => {
      // `#polling` is cleared in the same synchronous step as the last `#pollAgain` check, so a commit that
      // comes after that check always starts a new poll.
      try {
        do {
          this.#pollAgain = false;
          for (;;) {
            const page = await this.#log.since(this.#head, this.#batch);
            if (page.through <= this.#head) break;
            for (const event of page.events) this.#remember({ seq: event.seq, frame: eventFrame(event) });
            this.#head = page.through;
            for (const s of this.#subscribers) s.wake();
          }
        } while (this.#pollAgain);
      } finally {
        this.#polling = undefined;
      }
    })().catch(this.#onError);
  }

  #remember(entry: Entry): void {
    this.#window.push(entry);
    // Trimmed in halves, not one entry per event: amortized O(1).
    if (this.#window.length >= 2 * this.#windowSize)
      this.#window.splice(0, this.#window.length - this.#windowSize);
  }

  /** The window's entries after `cursor`, or undefined when the window does not reach back that far or has none. */
  fromWindow(cursor: number): readonly Entry[] | undefined {
    const first = this.#window[0];
    if (first === undefined || first.seq > cursor + 1) return undefined;
    // Binary search: entries are in seq order.
    let lo = 0;
    let hi = this.#window.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#window[mid] as Entry).seq <= cursor) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.#window.length ? this.#window.slice(lo) : undefined;
  }

  /** Reads the log directly for a subscriber behind the window; a `gap` entry first if retention dropped some. */
  async fromLog(cursor: number): Promise<{ entries: readonly Entry[]; through: number }> {
    const page = await this.#log.since(cursor, this.#batch);
    const entries = page.events.map((event) => ({ seq: event.seq, frame: eventFrame(event) }));
    if (page.gap === null) return { entries, through: page.through };
    const { from, to } = page.gap;
    const gap = { seq: to, frame: eventFrame({ seq: to, type: "gap", from, to }) };
    return { entries: [gap, ...entries], through: Math.max(to, page.through) };
  }

  reportError(error: unknown): void {
    this.#onError(error);
  }
}

/** One connection's place in the log. */
export class Subscription {
  #cursor: number;
  #started = false;
  #running = false;
  #cancelled = false;

  constructor(
    private readonly hub: EventHub,
    private readonly sink: EventSink,
    cursor: number,
  ) {
    this.#cursor = cursor;
  }

  get cursor(): number {
    return this.#cursor;
  }

  cancel(): void {
    this.#cancelled = true;
  }

  /** Starts delivery; until then commits only move the hub's head (the subscribe result goes out first). */
  start(): void {
    this.#started = true;
    this.wake();
  }

  /** Sends everything between the cursor and the hub's head; a no-op if already doing so. */
  wake(): void {
    if (!this.#started || this.#running || this.#cancelled) return;
    this.#running = true;
    this.#pump().catch((error) => this.hub.reportError(error));
  }

  async #pump(): Promise<void> {
    // `#running` is cleared in the same synchronous step as the last head check, so a wake() that comes after
    // that check always starts a new pump.
    try {
      while (!this.#cancelled && !this.sink.closed && this.#cursor < this.hub.head) {
        const recent = this.hub.fromWindow(this.#cursor);
        const { entries, through } = recent
          ? { entries: recent, through: (recent.at(-1) as Entry).seq }
          : await this.hub.fromLog(this.#cursor);
        if (through <= this.#cursor) return;
        for (const entry of entries) {
          if (this.#cancelled || this.sink.closed) return;
          if (entry.seq <= this.#cursor) continue;
          const pending = this.sink.send(entry.frame);
          this.#cursor = entry.seq;
          if (pending) await pending;
        }
        this.#cursor = Math.max(this.#cursor, through);
      }
    } finally {
      this.#running = false;
    }
  }
}

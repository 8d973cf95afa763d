// The receiving side of pipelined requests (issue 19; the header and the sending side are in
// @sotto/shared/sequence): several of one sender's requests in flight at once, handled in the sender's order.
// The S2S inbox keeps the order of another sotto-server's deliveries (`sottoSequencedDelivery`); the C2S outbox
// that of its owner's posts (`sottoSequencedOutbox`, one process on SQLite only: the order is kept in memory).

import type { Sequence } from "@sotto/shared/sequence";

/** A delivery that waits for predecessors is stored anyway after this long (they may have failed). */
export const HOLD_MS = 2000;
/** Deliveries one stream may have waiting; more are stored as they come. */
const MAX_HELD = 64;
/** Streams remembered; beyond, idle ones are forgotten (a forgotten stream's next delivery may wait HOLD_MS). */
const MAX_STREAMS = 10_000;
/** The `release` of a request that holds no turn (stored as it comes). */
const NO_TURN = (): void => {};

interface Stream {
  /** The number stored next. */
  next: number;
  /** Whether a delivery in turn is being stored (the next one waits for its commit). */
  busy: boolean;
  /** Deliveries waiting for their turn, by number: whether they waited {@link HOLD_MS}, how to let them go. */
  readonly held: Map<number, { overdue: boolean; readonly go: () => void }>;
}

/**
 * The receiving side: stores each stream's deliveries one after another in their numbers' order. A delivery
 * whose predecessors (`done` + 1 to `n` - 1) are not all stored yet is held, its request left open, until
 * they are or for at most {@link HOLD_MS}; then the stream skips to the lowest number held. A delivery whose
 * turn has passed (a redelivery, or one that came after its successors were let go) is stored at once; the
 * logs store an activity once. Streams are per signing actor: a peer cannot hold up another's deliveries.
 */
export class DeliveryOrder {
  readonly #streams = new Map<string, Stream>();

  /**
   * Runs `store` in `sequence`'s turn of `signer`'s stream. The next in turn starts once `store` settles, or
   * once it calls `release`: when its writes are issued, in order, to a commit that the next one may share.
   */
  async inOrder<T>(
    signer: string,
    sequence: Sequence,
    store: (release: () => void) => Promise<T>,
  ): Promise<T> {
    const stream = this.#stream(`${signer} ${sequence.stream}`);
    if (stream === undefined) return store(NO_TURN);
    const { n } = sequence;
    stream.next = Math.max(stream.next, sequence.done + 1);
    this.#advance(stream);
    if (n < stream.next || (n === stream.next && stream.busy)) return store(NO_TURN);
    if (n > stream.next) {
      if (stream.held.has(n) || stream.held.size >= MAX_HELD) return store(NO_TURN);
      await new Promise<void>((resolve) => {
        const waiting = {
          overdue: false,
          go: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        // Marked rather than compared with a clock: a timer may fire a millisecond before Date.now() says.
        const timer = setTimeout(() => {
          waiting.overdue = true;
          this.#advance(stream);
        }, HOLD_MS);
        stream.held.set(n, waiting);
      });
    } else stream.busy = true;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      stream.busy = false;
      stream.next = Math.max(stream.next, n + 1);
      this.#advance(stream);
    };
    try {
      return await store(release);
    } finally {
      release();
    }
  }

  /**
   * Lets the delivery in turn go; after {@link HOLD_MS} of waiting, skips the gap before the lowest held. One
   * whose turn has passed (`done` moved beyond it) goes first, still one at a time.
   */
  #advance(stream: Stream): void {
    if (stream.busy || stream.held.size === 0) return;
    let n = stream.next;
    if (!stream.held.has(n)) {
      n = Math.min(...stream.held.keys());
      const overdue = [...stream.held.values()].some((h) => h.overdue);
      if (n > stream.next && !overdue) return;
      stream.next = Math.max(stream.next, n);
    }
    const turn = stream.held.get(n);
    stream.held.delete(n);
    stream.busy = true;
    turn?.go();
  }

  #stream(key: string): Stream | undefined {
    let stream = this.#streams.get(key);
    if (stream !== undefined) {
      // Most recently used last, so that the idle ones are found first.
      this.#streams.delete(key);
      this.#streams.set(key, stream);
      return stream;
    }
    if (this.#streams.size >= MAX_STREAMS) {
      for (const [k, s] of this.#streams) {
        if (this.#streams.size < MAX_STREAMS) break;
        if (!s.busy && s.held.size === 0) this.#streams.delete(k);
      }
      if (this.#streams.size >= MAX_STREAMS) return undefined;
    }
    stream = { next: 1, busy: false, held: new Map() };
    this.#streams.set(key, stream);
    return stream;
  }
}

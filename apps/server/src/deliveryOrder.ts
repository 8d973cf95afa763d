// Pipelined delivery (issue 19): a sender may have several of one sender's deliveries to one server in flight
// at once, and the receiving server stores them in the sender's order.
//
// Each such delivery carries `Sotto-Sequence: <stream> <n> <done>`: it is the n-th delivery of the sender's
// stream `stream` to this server, and every delivery of that stream numbered up to `done` has settled at the
// sender (answered, or failed and queued again). A sotto-server announces that it keeps this order with
// `SEQUENCED_DELIVERY` in its actor documents; a sender pipelines only to servers that do, and sends one
// delivery at a time (no header) to every other server.

/** The request header; lowercase, as Fedify and node:http hand headers over. */
export const SEQUENCE_HEADER = "sotto-sequence";

/** The actor property (and its value) by which a server announces that it honours {@link SEQUENCE_HEADER}. */
export const SEQUENCED_DELIVERY = "sottoSequencedDelivery";

/** A delivery that waits for predecessors is stored anyway after this long (they may have failed). */
export const HOLD_MS = 2000;
/** Deliveries one stream may have waiting; more are stored as they come. */
const MAX_HELD = 64;
/** Streams remembered; beyond, idle ones are forgotten (a forgotten stream's next delivery may wait HOLD_MS). */
const MAX_STREAMS = 10_000;

export interface Sequence {
  readonly stream: string;
  readonly n: number;
  readonly done: number;
}

export function formatSequence(sequence: Sequence): string {
  return `${sequence.stream} ${sequence.n} ${sequence.done}`;
}

/** A well-formed header value (`done` < `n`), else undefined: the delivery is then stored as it comes. */
export function parseSequence(value: string | null): Sequence | undefined {
  const match = /^([A-Za-z0-9_-]{8,64}) ([1-9][0-9]{0,14}) (0|[1-9][0-9]{0,14})$/.exec(value?.trim() ?? "");
  if (match === null) return undefined;
  const n = Number(match[2]);
  const done = Number(match[3]);
  return done < n ? { stream: match[1] as string, n, done } : undefined;
}

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

  async inOrder<T>(signer: string, sequence: Sequence, store: () => Promise<T>): Promise<T> {
    const stream = this.#stream(`${signer} ${sequence.stream}`);
    if (stream === undefined) return store();
    const { n } = sequence;
    stream.next = Math.max(stream.next, sequence.done + 1);
    this.#advance(stream);
    if (n < stream.next || (n === stream.next && stream.busy)) return store();
    if (n > stream.next) {
      if (stream.held.has(n) || stream.held.size >= MAX_HELD) return store();
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
    try {
      return await store();
    } finally {
      stream.busy = false;
      stream.next = Math.max(stream.next, n + 1);
      this.#advance(stream);
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

/**
 * Reads an async sequence ahead of its consumer, up to `limit` items, so that what is already read can be
 * taken without waiting: a receive batch takes the rest of a page with plain calls while the next page is
 * fetched. (Racing each read against a turn of the event loop, as before, cost a timer and a race per item.)
 * Ends with the sequence; an error of the sequence is thrown by `wait` once the items before it are taken.
 */
export class ReadAhead<T> {
  readonly #items: AsyncIterator<T>;
  readonly #limit: number;
  readonly #onRead: ((item: T) => void) | undefined;
  readonly #queue: T[] = [];
  #head = 0;
  #readCount = 0;
  #taken = 0;
  #ended = false;
  #failed: { readonly error: unknown } | undefined;
  /** Wakes `wait` (an item came, or the end) or the reader (room came). */
  #wake: (() => void) | undefined;
  readonly #reading: Promise<void>;

  /** `onRead` sees each item as it is read, before it can be taken. */
  constructor(items: AsyncIterator<T>, limit: number, onRead?: (item: T) => void) {
    this.#items = items;
    this.#limit = limit;
    this.#onRead = onRead;
    this.#reading = this.#read();
  }

  async #read(): Promise<void> {
    try {
      while (!this.#ended) {
        if (this.size >= this.#limit) {
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
          continue;
        }
        const next = await this.#items.next();
        if (next.done) break;
        this.#onRead?.(next.value);
        this.#queue.push(next.value);
        this.#readCount++;
        this.#notify();
      }
    } catch (error) {
      this.#failed = { error };
    }
    this.#ended = true;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** How many items were read so far, and how many of them were taken. */
  get counts(): { readonly read: number; readonly taken: number } {
    return { read: this.#readCount, taken: this.#taken };
  }

  /** How many items are read and not taken yet. */
  get size(): number {
    return this.#queue.length - this.#head;
  }

  /** The next item if it is read already, else undefined. */
  take(): T | undefined {
    if (this.#head === this.#queue.length) return undefined;
    const item = this.#queue[this.#head] as T;
    this.#queue[this.#head++] = undefined as T;
    this.#taken++;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    }
    if (this.size === this.#limit - 1) this.#notify();
    return item;
  }

  /** Resolves true once an item can be taken, false at the end; throws the sequence's error. */
  async wait(): Promise<boolean> {
    while (this.size === 0) {
      if (this.#failed !== undefined) throw this.#failed.error;
      if (this.#ended) return false;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    return true;
  }

  /** Stops reading and ends the sequence (its `return`); items not taken are dropped. */
  async close(): Promise<void> {
    this.#ended = true;
    this.#notify();
    await this.#items.return?.(undefined);
    await this.#reading;
  }
}

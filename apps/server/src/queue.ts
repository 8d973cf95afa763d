import type { MessageQueue, MessageQueueEnqueueOptions, MessageQueueListenOptions } from "@fedify/fedify";

/** What `close` did: every delivery finished, or some outlived the grace (and stay queued). */
export type QueueClosing = "drained" | "abandoned";

/**
 * A message queue that knows what it is doing, so that shutdown can wait (bounded) for in-flight deliveries
 * before the database closes: a delivery is either done or back in the queue.
 */
export class DrainableQueue implements MessageQueue {
  readonly #inner: MessageQueue;
  #active = 0;
  #waiters: (() => void)[] = [];
  #closed = false;

  constructor(inner: MessageQueue) {
    this.#inner = inner;
  }

  get nativeRetrial(): boolean | undefined {
    return this.#inner.nativeRetrial;
  }

  async #track<T>(work: () => Promise<T> | T): Promise<T> {
    this.#active++;
    try {
      return await work();
    } finally {
      this.#active--;
      if (this.#active === 0) for (const wake of this.#waiters.splice(0)) wake();
    }
  }

  enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("the delivery queue is closed"));
    return this.#track(() => this.#inner.enqueue(message, options));
  }

  listen(
    handler: (message: unknown) => Promise<void> | void,
    options?: MessageQueueListenOptions,
  ): Promise<void> {
    return this.#inner.listen((message) => {
      // Handed over after `close` (the queue's loop claimed it while it was being stopped): not delivered. It
      // stays queued and is redone at the next start; like an abandoned delivery, it never settles.
      if (this.#closed) return new Promise<void>(() => undefined);
      // A delivery abandoned by `close` never settles for the queue's loop, so that loop never touches the
      // closed database again; its own outcome (a retry enqueue refused, say) is dropped.
      return this.#track(() => handler(message)).then(
        () => (this.#closed ? new Promise<void>(() => undefined) : undefined),
        (error: unknown) => (this.#closed ? new Promise<void>(() => undefined) : Promise.reject(error)),
      );
    }, options);
  }

  /** Resolves once no enqueue or delivery is running. */
  drained(): Promise<void> {
    return this.#active === 0 ? Promise.resolve() : new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Waits up to `graceMs` for running work, then refuses new work. A delivery still running stays in the
   * queue (a message leaves it only once its handler settled) and is redone at the next start; its receiver
   * stores a redelivered activity once. Call it after stopping the listener and before closing the database.
   */
  async close(graceMs: number): Promise<QueueClosing> {
    let timer: NodeJS.Timeout | undefined;
    const expired = await Promise.race([
      this.drained().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    this.#closed = true;
    return expired ? "abandoned" : "drained";
  }
}

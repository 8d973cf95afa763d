import type { MessageQueue, MessageQueueEnqueueOptions, MessageQueueListenOptions } from "@fedify/fedify";

/** What `close` did: every delivery finished, or some outlived the grace and were put back in the queue. */
export type QueueClosing = "drained" | "requeued";

/**
 * A message queue that knows what it is doing, so that shutdown can wait (bounded) for in-flight deliveries
 * before the database closes: a delivery is either done or back in the queue.
 */
export class DrainableQueue implements MessageQueue {
  readonly #inner: MessageQueue;
  /** Messages whose handler is running (wrapped: the same JSON may be handled twice at once). */
  readonly #handling = new Set<{ readonly message: unknown }>();
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
      const entry = { message };
      this.#handling.add(entry);
      const done = this.#track(() => handler(message)).finally(() => this.#handling.delete(entry));
      // A delivery abandoned by `close` never settles for the queue's loop, so that loop never touches the
      // closed database again; its own outcome (a retry enqueue refused, say) is dropped.
      return done.then(
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
   * Waits up to `graceMs` for running work, then refuses new work. Deliveries still running are enqueued
   * again (their receiving servers store a redelivered activity once), so nothing acknowledged is lost.
   * Call it after stopping the queue's listener and before closing the database.
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
    const abandoned = [...this.#handling];
    this.#closed = true;
    if (!expired && abandoned.length === 0) return "drained";
    for (const { message } of abandoned) {
      const orderingKey = (message as { orderingKey?: unknown }).orderingKey;
      await this.#inner.enqueue(message, typeof orderingKey === "string" ? { orderingKey } : undefined);
    }
    return "requeued";
  }
}

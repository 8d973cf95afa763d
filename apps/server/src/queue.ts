import type { MessageQueue, MessageQueueEnqueueOptions, MessageQueueListenOptions } from "@fedify/fedify";

/**
 * A message queue that knows what it is doing, so that shutdown can wait for in-flight deliveries (and the
 * re-enqueue of failed ones) before the database closes: a delivery is either done or back in the queue.
 */
export class DrainableQueue implements MessageQueue {
  readonly #inner: MessageQueue;
  #active = 0;
  #waiters: (() => void)[] = [];

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
    return this.#track(() => this.#inner.enqueue(message, options));
  }

  listen(
    handler: (message: unknown) => Promise<void> | void,
    options?: MessageQueueListenOptions,
  ): Promise<void> {
    return this.#inner.listen((message) => this.#track(() => handler(message)), options);
  }

  /** Resolves once no enqueue or delivery is running. */
  drained(): Promise<void> {
    return this.#active === 0 ? Promise.resolve() : new Promise((resolve) => this.#waiters.push(resolve));
  }
}

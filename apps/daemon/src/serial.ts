/**
 * Runs tasks one at a time, in the order they were queued. Everything that reads a conversation's MLS state
 * and writes a new one (receiving, sending, membership changes) goes through one of these, so no two of them
 * ever start from the same state.
 */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => {});
    return result;
  }

  /** Resolves once everything queued so far has finished. */
  idle(): Promise<void> {
    return this.#tail.then(() => {});
  }
}

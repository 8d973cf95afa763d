import type { MessageQueue } from "@fedify/fedify";
import { describe, expect, it } from "vitest";
import { DrainableQueue } from "./queue.js";

/** The listening side of a queue, handing messages to the listener as a real queue's loop does after a claim. */
function handingQueue(): { inner: MessageQueue; handOver(message: unknown): Promise<void> } {
  let listener: ((message: unknown) => Promise<void> | void) | undefined;
  return {
    inner: {
      enqueue: async () => {},
      listen: (handler, options) => {
        listener = handler;
        return new Promise((resolve) => options?.signal?.addEventListener("abort", () => resolve()));
      },
    },
    handOver: async (message) => {
      await listener?.(message);
    },
  };
}

const PENDING = Symbol("pending");
const stateOf = (promise: Promise<unknown>) =>
  Promise.race([promise.then(() => "settled"), new Promise((r) => setTimeout(() => r(PENDING), 50))]);

describe("DrainableQueue", () => {
  it("does not deliver a message its loop hands over after close, and that message never settles", async () => {
    const { inner, handOver } = handingQueue();
    const queue = new DrainableQueue(inner);
    const delivered: unknown[] = [];
    const abort = new AbortController();
    void queue.listen((message) => void delivered.push(message), { signal: abort.signal });
    await handOver("before");
    abort.abort();
    expect(await queue.close(1000)).toBe("drained");
    // The loop claimed this one while it was being stopped.
    const late = handOver("after");
    expect(await stateOf(late)).toBe(PENDING);
    expect(delivered).toEqual(["before"]);
    await expect(queue.enqueue("new")).rejects.toThrow("closed");
  });
});

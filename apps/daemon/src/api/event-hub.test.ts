// The hub on a real store, with sinks standing in for sockets: one consumer that stops accepting frames holds
// back nobody else, holds at most one frame in flight, and resumes where it stopped.
import { afterEach, describe, expect, it } from "vitest";
import { EventHub, type EventSink } from "./event-hub.js";
import { storeEventLog } from "./store-event-log.js";
import { startTestApi, type TestApi, until } from "./test-support.js";

const seqOf = (frame: string): number => JSON.parse(frame).params.seq;

/** A sink that accepts frames at once, or (once `block` is set) one at a time on `release`. */
function sink(): EventSink & { seqs: number[]; block: boolean; inFlight: number; release(): void } {
  let waiting: (() => void) | undefined;
  return {
    seqs: [],
    block: false,
    inFlight: 0,
    closed: false,
    send(frame) {
      this.seqs.push(seqOf(frame));
      if (!this.block) return;
      this.inFlight += 1;
      return new Promise<void>((resolve) => {
        waiting = () => {
          this.inFlight -= 1;
          resolve();
        };
      });
    },
    release() {
      this.block = false;
      waiting?.();
    },
  };
}

describe("EventHub", () => {
  let api: TestApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it("lets a blocked subscriber wait without holding back the others, then resumes it in order", async () => {
    api = await startTestApi();
    const hub = await EventHub.open(storeEventLog(api.store), { window: 256, batch: 100 });
    try {
      const slow = sink();
      const fast = sink();
      const s1 = await hub.subscribe(slow, 0);
      const s2 = await hub.subscribe(fast, 0);
      s1.subscription.start();
      s2.subscription.start();
      api.append(50);
      await until("both to have the first 50", () => slow.seqs.length === 50 && fast.seqs.length === 50);

      slow.block = true;
      for (let i = 0; i < 20; i++) {
        api.append(100);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await until("the fast subscriber to have all 2050", () => fast.seqs.length === 2050);
      expect(fast.seqs).toEqual(Array.from({ length: 2050 }, (_, i) => i + 1));
      expect(slow.seqs).toHaveLength(51); // the one frame it did not acknowledge yet, nothing queued behind it
      expect(slow.inFlight).toBe(1);

      slow.release(); // far behind the window now: it reads the rest from the store's log
      await until("the slow subscriber to catch up", () => slow.seqs.length === 2050);
      expect(slow.seqs).toEqual(fast.seqs);
    } finally {
      hub.close();
    }
  });

  it("stops sending to an unsubscribed or closed sink", async () => {
    api = await startTestApi();
    const hub = await EventHub.open(storeEventLog(api.store));
    try {
      const a = sink();
      const b = sink();
      const { subscription } = await hub.subscribe(a, 0);
      subscription.start();
      (await hub.subscribe(b, 0)).subscription.start();
      api.append(3);
      await until("both to have 3", () => a.seqs.length === 3 && b.seqs.length === 3);
      hub.unsubscribe(subscription);
      api.append(3);
      await until("b to have 6", () => b.seqs.length === 6);
      expect(a.seqs).toEqual([1, 2, 3]);
    } finally {
      hub.close();
    }
  });
});

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { openStore, type Store } from "@sotto/storage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Applier } from "./applier.js";
import { createLogger } from "./log.js";

// The Applier's flush policy on a real store (durability "full", so relaxed units wait for a flush).
describe("Applier", () => {
  let dir: string;
  let store: Store;
  let applier: Applier;
  const logged: string[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sottod-applier-"));
    writeFileSync(join(dir, "key"), randomBytes(32), { mode: 0o600 });
    store = await openStore({ path: join(dir, "store.db"), key: { keyFile: join(dir, "key") } });
    logged.length = 0;
    applier = new Applier(store, new Map(), createLogger({ write: (line) => logged.push(line) }));
  });

  afterEach(() => {
    applier.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const relaxed = (n: number) =>
    applier.apply({ cursor: { name: "received", position: `p${n}` } }, [], { durable: false });

  it("flushes a relaxed unit within the flush delay", async () => {
    relaxed(1);
    expect(store.unflushed).toBe(true);
    await sleep(1_300);
    expect(store.unflushed).toBe(false);
  });

  it("makes a flush that came due during a batch when the batch commits", async () => {
    relaxed(1);
    // The batch holds the transaction past the flush delay, taking turns of the event loop meanwhile.
    await applier.batch(async () => {
      await sleep(1_300);
      relaxed(2);
    });
    expect(store.unflushed).toBe(false);
    expect(store.cursor("received")).toBe("p2");
    expect(logged.filter((line) => line.includes("flush_failed"))).toEqual([]);
  });

  it("still flushes what came before a batch that failed", async () => {
    relaxed(1);
    await expect(
      applier.batch(async () => {
        await sleep(1_300);
        relaxed(2);
        throw new Error("a failing batch");
      }),
    ).rejects.toThrow("a failing batch");
    expect(store.cursor("received")).toBe("p1");
    expect(store.unflushed).toBe(true);
    await sleep(1_300);
    expect(store.unflushed).toBe(false);
  });

  it("commits what queues a post relaxed, and syncs it before the post, after an open batch commits", async () => {
    const queue = (id: string) =>
      applier.apply({ outbox: [{ op: "enqueue", id, payload: { type: "Note" } }] }, [], { durable: true });
    queue("a");
    queue("b");
    expect(store.unflushed).toBe(true);
    await applier.beforePost();
    expect(store.unflushed).toBe(false);
    // A relaxed unit that queues nothing (a received message, a sent mark) need not reach the disk first.
    relaxed(1);
    await applier.beforePost();
    expect(store.unflushed).toBe(true);
    // Inside a receive batch the store cannot sync: the post waits for the batch to commit.
    let synced = false;
    let posting: Promise<void> | undefined;
    await applier.batch(async () => {
      queue("c");
      posting = applier.beforePost().then(() => {
        synced = true;
      });
      await sleep(50);
      expect(synced).toBe(false);
    });
    await posting;
    expect(synced).toBe(true);
    expect(store.unflushed).toBe(false);
    expect(store.outbox("queued").map((i) => i.id)).toEqual(["a", "b", "c"]);
  });

  it("writes a batch's reading position once, at its end, and never behind a unit written at once", async () => {
    await applier.batch(async () => {
      relaxed(1);
      relaxed(2);
      // Inside the batch, the deferred position is not in the store yet.
      expect(store.cursor("received")).toBeUndefined();
      // A durable unit is written at once, with its position.
      applier.apply({ cursor: { name: "received", position: "p3" } }, [], { durable: true });
      expect(store.cursor("received")).toBe("p3");
    });
    expect(store.cursor("received")).toBe("p3");
    await applier.batch(async () => {
      relaxed(4);
      relaxed(5);
    });
    expect(store.cursor("received")).toBe("p5");
  });
});

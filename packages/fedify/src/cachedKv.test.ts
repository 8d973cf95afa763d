import { type KvKey, MemoryKvStore } from "@fedify/fedify";
import { describe, expect, it } from "vitest";
import { CachedKvStore } from "./cachedKv.js";

/** Fedify's in-memory store, counting the reads that reach it. */
class CountingKvStore extends MemoryKvStore {
  reads = 0;

  override get<T = unknown>(key: KvKey): Promise<T | undefined> {
    this.reads++;
    return super.get<T>(key);
  }
}

describe("CachedKvStore", () => {
  const circuit = ["_fedify", "circuit", "b.example"] as const;
  const setup = () => {
    const inner = new CountingKvStore();
    let now = 0;
    const kv = new CachedKvStore(inner, [["_fedify", "circuit"]], 1000, () => now);
    return { inner, kv, advance: (ms: number) => (now += ms) };
  };

  it("reads a key under its prefixes from the store once per max age, other keys every time", async () => {
    const { inner, kv, advance } = setup();
    await inner.set(circuit, { state: "closed", failures: [] });
    await inner.set(["_fedify", "other"], 1);
    for (let i = 0; i < 3; i++) {
      expect(await kv.get(circuit)).toEqual({ state: "closed", failures: [] });
      expect(await kv.get(["_fedify", "other"])).toBe(1);
    }
    expect(inner.reads).toBe(4);
    advance(1001);
    await kv.get(circuit);
    expect(inner.reads).toBe(5);
  });

  it("answers its own writes, and a missing key, from memory", async () => {
    const { inner, kv } = setup();
    expect(await kv.get(circuit)).toBeUndefined();
    await kv.set(circuit, { state: "open", failures: [] });
    expect(await kv.get(circuit)).toEqual({ state: "open", failures: [] });
    expect(
      await kv.cas?.(circuit, { state: "open", failures: [] }, { state: "half-open", failures: [] }),
    ).toBe(true);
    expect(await kv.get(circuit)).toEqual({ state: "half-open", failures: [] });
    await kv.delete(circuit);
    expect(await kv.get(circuit)).toBeUndefined();
    expect(inner.reads).toBe(1);
  });

  it("reads the store again after a compare-and-swap failed on another process's change", async () => {
    const { inner, kv } = setup();
    await kv.set(circuit, { state: "open", failures: [] });
    // Another process closes the circuit: this one still remembers it open ...
    await inner.delete(circuit);
    expect(await kv.get(circuit)).toEqual({ state: "open", failures: [] });
    // ... until its own compare-and-swap fails, which sends the next read to the store.
    expect(
      await kv.cas?.(circuit, { state: "open", failures: [] }, { state: "half-open", failures: [] }),
    ).toBe(false);
    expect(await kv.get(circuit)).toBeUndefined();
  });

  it("hands out copies: changing what a read answered does not change the next answer", async () => {
    const { kv } = setup();
    await kv.set(circuit, { state: "closed", failures: [] });
    const read = (await kv.get(circuit)) as { failures: string[] };
    read.failures.push("2026-12-02T12:00:00Z");
    expect(await kv.get(circuit)).toEqual({ state: "closed", failures: [] });
  });
});

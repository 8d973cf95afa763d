import { type KvKey, type KvStoreSetOptions, MemoryKvStore } from "@fedify/fedify";
import { describe, expect, it } from "vitest";
import { QuietKvStore } from "./quietKv.js";

/** Fedify's in-memory store, recording the writes that reach it. */
class RecordingKvStore extends MemoryKvStore {
  readonly writes: string[] = [];

  override set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    this.writes.push(`${key.join("/")}=${JSON.stringify(value)}`);
    return super.set(key, value, options);
  }
}

describe("QuietKvStore", () => {
  const spec = ["_fedify", "httpMessageSignaturesSpec", "https://b.example"] as const;

  it("writes an unchanged value under its prefixes once, and everything else every time", async () => {
    const inner = new RecordingKvStore();
    const kv = new QuietKvStore(inner, [["_fedify", "httpMessageSignaturesSpec"]]);
    for (let i = 0; i < 3; i++) await kv.set(spec, "rfc9421");
    await kv.set(spec, "draft-cavage-http-signatures-12");
    await kv.set(["_fedify", "other"], 1);
    await kv.set(["_fedify", "other"], 1);
    expect(inner.writes).toEqual([
      '_fedify/httpMessageSignaturesSpec/https://b.example="rfc9421"',
      '_fedify/httpMessageSignaturesSpec/https://b.example="draft-cavage-http-signatures-12"',
      "_fedify/other=1",
      "_fedify/other=1",
    ]);
    expect(await kv.get(spec)).toBe("draft-cavage-http-signatures-12");
  });

  it("writes again after a delete or a compare-and-swap of that key", async () => {
    const inner = new RecordingKvStore();
    const kv = new QuietKvStore(inner, [["_fedify", "httpMessageSignaturesSpec"]]);
    await kv.set(spec, "rfc9421");
    await kv.delete(spec);
    await kv.set(spec, "rfc9421");
    await kv.cas?.(spec, "rfc9421", "draft-cavage-http-signatures-12");
    await kv.set(spec, "rfc9421");
    expect(inner.writes).toHaveLength(3);
    expect(await kv.get(spec)).toBe("rfc9421");
  });
});

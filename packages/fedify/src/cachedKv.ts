import type { KvKey, KvStore, KvStoreListEntry, KvStoreSetOptions } from "@fedify/fedify";

interface Entry {
  readonly value: unknown;
  readonly until: number;
}

/**
 * A KV store that answers reads of keys under `prefixes` from memory for up to `maxAgeMs` after this process
 * last read or wrote them. Fedify reads a peer's circuit-breaker state twice and its signature spec once per
 * delivery: on MariaDB three round trips, each delivery. Writes go through and update the copy; a failed
 * compare-and-swap drops it (another process changed the key), so the next read asks the store. Another
 * process's change is seen at most `maxAgeMs` late, or at this process's next write to that key.
 */
export class CachedKvStore implements KvStore {
  readonly #inner: KvStore;
  readonly #prefixes: readonly string[];
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  /** Writes per key so far: a read that overlapped a write of its key does not keep what it read. */
  readonly #writes = new Map<string, number>();
  readonly cas?: KvStore["cas"];

  constructor(inner: KvStore, prefixes: readonly KvKey[], maxAgeMs: number, now: () => number = Date.now) {
    this.#inner = inner;
    this.#prefixes = prefixes.map((p) => JSON.stringify(p).slice(0, -1));
    this.#maxAgeMs = maxAgeMs;
    this.#now = now;
    if (inner.cas !== undefined) {
      const cas = inner.cas.bind(inner);
      this.cas = async (key, expected, value, options) => {
        const name = this.#cached(key);
        if (name === undefined) return cas(key, expected, value, options);
        this.#forget(name);
        const swapped = await cas(key, expected, value, options);
        if (swapped) this.#remember(name, value, options);
        return swapped;
      };
    }
  }

  /** The cache key of `key`, when it is under one of the prefixes. */
  #cached(key: KvKey): string | undefined {
    const name = JSON.stringify(key);
    return this.#prefixes.some((p) => name.startsWith(p)) ? name : undefined;
  }

  #forget(name: string): void {
    this.#entries.delete(name);
    this.#writes.set(name, (this.#writes.get(name) ?? 0) + 1);
  }

  #remember(name: string, value: unknown, options?: KvStoreSetOptions): void {
    const ttl = options?.ttl?.total("millisecond");
    const age = ttl === undefined ? this.#maxAgeMs : Math.min(ttl, this.#maxAgeMs);
    this.#entries.set(name, { value: structuredClone(value), until: this.#now() + age });
  }

  async get<T = unknown>(key: KvKey): Promise<T | undefined> {
    const name = this.#cached(key);
    if (name === undefined) return this.#inner.get<T>(key);
    const entry = this.#entries.get(name);
    if (entry !== undefined && entry.until > this.#now()) return structuredClone(entry.value) as T;
    const writes = this.#writes.get(name);
    const value = await this.#inner.get<T>(key);
    if (this.#writes.get(name) === writes) this.#remember(name, value);
    return value;
  }

  async set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    const name = this.#cached(key);
    if (name !== undefined) this.#forget(name);
    await this.#inner.set(key, value, options);
    if (name !== undefined) this.#remember(name, value, options);
  }

  async delete(key: KvKey): Promise<void> {
    const name = this.#cached(key);
    if (name !== undefined) this.#forget(name);
    await this.#inner.delete(key);
    if (name !== undefined) this.#remember(name, undefined);
  }

  list(prefix?: KvKey): AsyncIterable<KvStoreListEntry> {
    return this.#inner.list(prefix);
  }
}

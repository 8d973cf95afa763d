import type { KvKey, KvStore, KvStoreListEntry, KvStoreSetOptions } from "@fedify/fedify";

/**
 * A KV store that leaves out a `set` of the value this process already stored under that key, for keys under
 * `prefixes`. Fedify remembers the signature spec of a peer after every successful delivery (`set` of the
 * same word each time): on SQLite with full sync that was two disk syncs per delivery. Only for preferences
 * that another process may overwrite without harm: the skipped write would have stored what this one knows.
 */
export class QuietKvStore implements KvStore {
  readonly #inner: KvStore;
  readonly #prefixes: readonly string[];
  readonly #written = new Map<string, string>();
  readonly cas?: KvStore["cas"];

  constructor(inner: KvStore, prefixes: readonly KvKey[]) {
    this.#inner = inner;
    this.#prefixes = prefixes.map((p) => JSON.stringify(p).slice(0, -1));
    if (inner.cas !== undefined) {
      const cas = inner.cas.bind(inner);
      this.cas = (key, expected, value, options) => {
        this.#written.delete(JSON.stringify(key));
        return cas(key, expected, value, options);
      };
    }
  }

  get<T = unknown>(key: KvKey): Promise<T | undefined> {
    return this.#inner.get<T>(key);
  }

  async set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    const name = JSON.stringify(key);
    const quiet = options?.ttl === undefined && this.#prefixes.some((p) => name.startsWith(p));
    const json = JSON.stringify(value);
    if (quiet && this.#written.get(name) === json) return;
    await this.#inner.set(key, value, options);
    if (quiet) this.#written.set(name, json);
  }

  delete(key: KvKey): Promise<void> {
    this.#written.delete(JSON.stringify(key));
    return this.#inner.delete(key);
  }

  list(prefix?: KvKey): AsyncIterable<KvStoreListEntry> {
    return this.#inner.list(prefix);
  }
}

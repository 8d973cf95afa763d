import type { KeyCache } from "@fedify/fedify";
import type { CryptographicKey, Multikey } from "@fedify/vocab";

const KEY_TTL_MS = 5 * 60 * 1000;
// A key that could not be fetched is retried soon: the peer may have been down for a moment.
const MISSING_TTL_MS = 10 * 1000;

/**
 * Parsed signing keys of remote actors, kept in memory for a few minutes: parsing the key document is the
 * costliest step of verifying an HTTP Signature. Fedify fetches the key again when a cached one fails.
 */
export class MemoryKeyCache implements KeyCache {
  readonly #keys = new Map<string, { key: CryptographicKey | Multikey | null; until: number }>();

  get(keyId: URL): Promise<CryptographicKey | Multikey | null | undefined> {
    const entry = this.#keys.get(keyId.href);
    if (entry === undefined || entry.until < Date.now()) return Promise.resolve(undefined);
    return Promise.resolve(entry.key);
  }

  set(keyId: URL, key: CryptographicKey | Multikey | null): Promise<void> {
    this.#keys.set(keyId.href, { key, until: Date.now() + (key === null ? MISSING_TTL_MS : KEY_TTL_MS) });
    return Promise.resolve();
  }
}

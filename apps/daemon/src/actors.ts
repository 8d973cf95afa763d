import { type ActivityPubClient, ActivityPubError, type Actor } from "@sotto/activitypub";
import {
  publishedSignatureKeys,
  readKeyPackageCollection,
  readKeyPackageObject,
  readKeyPackagesProperty,
} from "@sotto/core";
import { fingerprintText } from "./contacts.js";

export interface ActorDirectoryOptions {
  /** How long a fetched actor document is trusted before it is fetched again. */
  readonly ttlMs?: number;
  readonly maxEntries?: number;
  /** Upper bound on collection pages followed for one actor's KeyPackages. */
  readonly maxPages?: number;
  /**
   * How often, at most, one actor's listing is read again to check a key not seen before: a stranger's junk
   * Welcomes naming an actor must not turn into a request to its server each.
   */
  readonly keyRecheckMs?: number;
  readonly now?: () => number;
}

/** One KeyPackage an actor lists: its object id (to Remove/Delete our own) and its raw bytes. */
export interface ListedKeyPackage {
  readonly objectId?: string;
  readonly bytes: Uint8Array;
  readonly generator?: string;
  /** The name the device publishes with it (its `generator`'s `name`). */
  readonly generatorName?: string;
  /** The device's MLS signature key (its leaf's). */
  readonly signaturePublicKey: Uint8Array;
  /** Another device's endorsement (`mlsSignature` / `mlsSignerKeyId`), unverified as read. */
  readonly endorsement?: { readonly mlsSignature: string; readonly mlsSignerKeyId?: string };
}

/**
 * Actors as the daemon sees them: fetched through @sotto/activitypub, cached with an expiry (handles too),
 * and the `keyPackagesOf` that @sotto/core's Authentication Service calls. KeyPackage listings are always read
 * fresh: packages are consumed and replaced, and authenticating against a stale listing would accept
 * revoked ones.
 */
export class ActorDirectory {
  readonly client: ActivityPubClient;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #maxPages: number;
  readonly #keyRecheckMs: number;
  readonly #now: () => number;
  readonly #actors = new Map<string, { actor: Actor; until: number }>();
  readonly #handles = new Map<string, { id: string; until: number }>();
  /** Signature keys each actor was seen to publish (a key once published stays the actor's), and when read. */
  readonly #signatureKeys = new Map<string, { keys: readonly Uint8Array[]; readAt: number }>();
  /** The names devices publish with their KeyPackages, by fingerprint, as last listed. */
  readonly #deviceNames = new Map<string, string>();

  constructor(client: ActivityPubClient, options: ActorDirectoryOptions = {}) {
    this.client = client;
    this.#ttlMs = options.ttlMs ?? 10 * 60_000;
    this.#maxEntries = options.maxEntries ?? 5000;
    this.#maxPages = options.maxPages ?? 20;
    this.#keyRecheckMs = options.keyRecheckMs ?? 5_000;
    this.#now = options.now ?? Date.now;
  }

  /** The actor id for a handle or URL. */
  async resolve(reference: string, signal?: AbortSignal): Promise<string> {
    const cached = this.#handles.get(reference);
    if (cached !== undefined && cached.until > this.#now()) return cached.id;
    const id = await this.client.resolve(reference, signal);
    this.#remember(this.#handles, reference, { id, until: this.#now() + this.#ttlMs });
    return id;
  }

  /** The actor for a handle or URL, from the cache while it is fresh. */
  async actor(reference: string, options: { fresh?: boolean; signal?: AbortSignal } = {}): Promise<Actor> {
    const id = await this.resolve(reference, options.signal);
    const cached = this.#actors.get(id);
    if (!options.fresh && cached !== undefined && cached.until > this.#now()) return cached.actor;
    const actor = await this.client.getActor(id, { signal: options.signal });
    if (actor.id !== id) {
      throw new ActivityPubError("invalid_response", `asked for actor ${id}, got ${actor.id}`, { url: id });
    }
    this.#remember(this.#actors, id, { actor, until: this.#now() + this.#ttlMs });
    return actor;
  }

  /** `user@host` for an actor, from its `preferredUsername` and the host of its id. */
  static handleOf(actor: Actor): string | null {
    return actor.preferredUsername === undefined
      ? null
      : `${actor.preferredUsername}@${new URL(actor.id).host}`;
  }

  /** Every KeyPackage the actor lists now (fetched fresh), undecodable entries skipped. */
  async listKeyPackages(actorId: string, signal?: AbortSignal): Promise<ListedKeyPackage[]> {
    const actor = await this.actor(actorId, { fresh: true, signal });
    const read = readKeyPackagesProperty(actor.raw);
    if (!read.ok) return [];
    const out: ListedKeyPackage[] = [];
    let listing = read.value;
    for (let pages = 0; ; pages++) {
      for (const item of listing.items) {
        const json =
          item.type === "embedded"
            ? item.object
            : await this.client.getObject(item.id, { signal }).catch((error: unknown) => {
                if (error instanceof ActivityPubError && !error.retryable) return undefined;
                throw error;
              });
        if (json === undefined) continue;
        const object = readKeyPackageObject(json);
        if (!object.ok) continue;
        if (object.value.generatorName !== undefined) {
          const fingerprint = fingerprintText(object.value.keyPackage.leafNode.signaturePublicKey);
          this.#remember(this.#deviceNames, fingerprint, object.value.generatorName);
        }
        out.push({
          objectId: object.value.id ?? (item.type === "reference" ? item.id : undefined),
          bytes: object.value.keyPackageBytes,
          generator: object.value.generator,
          ...(object.value.generatorName === undefined ? {} : { generatorName: object.value.generatorName }),
          signaturePublicKey: object.value.keyPackage.leafNode.signaturePublicKey,
          ...(object.value.endorsement === undefined ? {} : { endorsement: object.value.endorsement }),
        });
      }
      if (listing.next === undefined || pages >= this.#maxPages) return out;
      const next = readKeyPackageCollection(await this.client.getObject(listing.next, { signal }));
      if (!next.ok) return out;
      listing = next.value;
    }
  }

  /** The name a device (by fingerprint) published with its KeyPackages, when a listing read showed one. */
  deviceName(fingerprint: string): string | undefined {
    return this.#deviceNames.get(fingerprint);
  }

  /** @sotto/core's ActorFetcher. */
  async keyPackagesOf(actorId: string): Promise<readonly Uint8Array[]> {
    return (await this.listKeyPackages(actorId)).map((kp) => kp.bytes);
  }

  /**
   * @sotto/core's DeviceKeyDirectory: the signature keys `actorId` publishes. Answered from what was seen
   * before when every wanted key is known, or when the listing was read less than `keyRecheckMs` ago;
   * otherwise read fresh and added to what was seen (single-use packages are consumed, their keys stay the
   * actor's). Undefined when the listing cannot be read. `fresh` reads it again for a key not seen before even
   * within `keyRecheckMs`: for leaves a member's commit added (a member just published a new device of its
   * actor), which a stranger cannot make.
   */
  async signatureKeysOf(
    actorId: string,
    wanted: readonly Uint8Array[],
    options: { readonly fresh?: boolean } = {},
  ): Promise<readonly Uint8Array[] | undefined> {
    const known = this.#signatureKeys.get(actorId);
    const has = (keys: readonly Uint8Array[], key: Uint8Array) =>
      keys.some((k) => Buffer.compare(k, key) === 0);
    if (
      known !== undefined &&
      (wanted.every((w) => has(known.keys, w)) ||
        (!options.fresh && this.#now() - known.readAt < this.#keyRecheckMs))
    )
      return known.keys;
    let fresh: Uint8Array[];
    try {
      fresh = await publishedSignatureKeys(this, actorId);
    } catch {
      return undefined;
    }
    const keys = [...(known?.keys ?? []), ...fresh.filter((k) => !has(known?.keys ?? [], k))];
    this.#remember(this.#signatureKeys, actorId, { keys, readAt: this.#now() });
    return keys;
  }

  #remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > this.#maxEntries) map.delete(map.keys().next().value as string);
  }
}

import { createFederation, type Federation, type KvKey, type KvStore } from "@fedify/fedify";
import { Activity, Endpoints, Person, type Recipient } from "@fedify/vocab";
import { CachedKvStore, deliveryPolicy, mlsLoaderFactories, QuietKvStore } from "@sotto/fedify";
import type { Paths } from "./paths.js";
import type { DrainableQueue } from "./queue.js";
import type { Users } from "./users.js";

/** How long a circuit-breaker state or signature spec read from the KV store is used again. */
const KV_READ_CACHE_MS = 1000;

/** Remote recipients of a posted activity; blind ones (bto/bcc) get it at their personal inbox. */
export interface Handoff {
  readonly recipients: readonly Recipient[];
  readonly blind: readonly Recipient[];
}

/** Per-request data: set only by the server itself when it hands a checked C2S activity to Fedify to deliver. */
export interface ContextData {
  readonly handoff?: Handoff;
}

export interface FederationOptions {
  /** Fedify's KV store (SQLite or MySQL, beside the server's tables). */
  readonly kv: KvStore;
  readonly queue: DrainableQueue;
  readonly users: Users;
  readonly paths: Paths;
  readonly domain: string;
  readonly allowPrivateAddress: boolean;
}

/**
 * The Fedify federation of sotto-server: actors (with key pairs), WebFinger, and outbox delivery through
 * Fedify's queue with retries. The S2S inbox (inbox.ts) verifies signatures with Fedify's `verifyRequest`
 * but reads the JSON itself: Fedify's vocabulary rejects objects of the MLS types.
 */
export function buildFederation(options: FederationOptions): Federation<ContextData> {
  const { users, paths, queue } = options;
  // Fedify reads a peer's circuit state (twice) and signature spec per delivery: answered from memory for up
  // to a second (one read per key and second, not three per delivery). It also stores the spec after every
  // delivery; unchanged, it is not written again.
  const spec: KvKey = ["_fedify", "httpMessageSignaturesSpec"];
  const cached = new CachedKvStore(options.kv, [["_fedify", "circuit"], spec], KV_READ_CACHE_MS);
  const kv = new QuietKvStore(cached, [spec]);
  const federation = createFederation<ContextData>({
    kv,
    queue: { outbox: queue },
    manuallyStartQueue: true,
    ...deliveryPolicy(),
    origin: { handleHost: options.domain, webOrigin: paths.origin },
    ...mlsLoaderFactories({ allowPrivateAddress: options.allowPrivateAddress, kv }),
  });

  federation
    .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
      if (!(await users.exists(identifier))) return null;
      const keys = await ctx.getActorKeyPairs(identifier);
      return new Person({
        id: ctx.getActorUri(identifier),
        preferredUsername: identifier,
        inbox: new URL(paths.inbox(identifier)),
        outbox: new URL(paths.outbox(identifier)),
        endpoints: new Endpoints({ sharedInbox: new URL(paths.sharedInbox) }),
        publicKey: keys[0]?.cryptographicKey ?? null,
        assertionMethods: keys.map((k) => k.multikey),
      });
    })
    .setKeyPairsDispatcher((_ctx, identifier) => users.keyPairs(identifier));

  federation
    .setOutboxListeners("/users/{identifier}/outbox")
    .authorize((ctx) => ctx.data.handoff !== undefined)
    .on(Activity, async (ctx) => {
      const handoff = ctx.data.handoff;
      if (handoff === undefined) return;
      // forwardActivity sends the JSON as posted; sendActivity would re-serialise it and drop MLS fields.
      // The ordering key keeps one sender's activities in order per receiving server: MLS applies them in
      // order, and epochs must not arrive reversed.
      const options = { skipIfUnsigned: false, orderingKey: ctx.identifier };
      // Only the RSA key signs requests (Fedify's draft-cavage and RFC 9421 alike; forwarding adds no proof):
      // queueing just that one spares an export and, per delivery, an import of the Ed25519 key.
      const published = await ctx.getActorKeyPairs(ctx.identifier);
      const sender = (await users.keyPairs(ctx.identifier)).flatMap(({ privateKey }, i) => {
        const keyId = published[i]?.keyId;
        return keyId !== undefined && privateKey.algorithm.name === "RSASSA-PKCS1-v1_5"
          ? [{ keyId, privateKey }]
          : [];
      });
      if (handoff.recipients.length > 0) {
        await ctx.forwardActivity(sender, [...handoff.recipients], { ...options, preferSharedInbox: true });
      }
      // A shared inbox could not tell whom a blind copy is for: it no longer names them.
      if (handoff.blind.length > 0) {
        await ctx.forwardActivity(sender, [...handoff.blind], { ...options, preferSharedInbox: false });
      }
    });

  return federation;
}

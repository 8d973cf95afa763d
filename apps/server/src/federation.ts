import type { webcrypto } from "node:crypto";
import { createFederation, exportJwk, type Federation, type KvKey, type KvStore } from "@fedify/fedify";
import { Endpoints, Person, type Recipient } from "@fedify/vocab";
import { type JsonObject, linkId, typesOf } from "@sotto/core";
import { CachedKvStore, deliveryPolicy, mlsLoaderFactories, QuietKvStore } from "@sotto/fedify";
import type { Paths } from "./paths.js";
import type { DrainableQueue } from "./queue.js";
import type { Users } from "./users.js";

/** How long a circuit-breaker state or signature spec read from the KV store is used again. */
const KV_READ_CACHE_MS = 1000;

/** A remote recipient, and whether its server keeps the order of pipelined deliveries (deliveryOrder.ts). */
export interface RemoteActor {
  readonly recipient: Recipient;
  readonly sequenced: boolean;
}

/** Remote recipients of a posted activity; blind ones (bto/bcc) get it at their personal inbox. */
export interface Handoff {
  readonly recipients: readonly RemoteActor[];
  readonly blind: readonly RemoteActor[];
}

/**
 * Queues a local user's activity for delivery: resolves, once the user's signing key is loaded, to the function
 * that queues. That one reaches the queue's write in the turn it is called in (nothing awaited before), so that
 * with SQLite's group commit a post and its deliveries share one transaction (outbox.ts).
 */
export type DeliveryHandoff = (
  name: string,
) => Promise<(activity: JsonObject, recipients: Handoff) => Promise<void>>;

/** Fedify's per-request data: none. */
export type ContextData = Record<string, never>;

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
 * The Fedify federation of sotto-server: actors (with key pairs), WebFinger, and delivery of what
 * {@link deliveryHandoff} queues, through Fedify's queue with retries. The S2S inbox (inbox.ts) verifies
 * signatures with Fedify's `verifyRequest` but reads the JSON itself: Fedify's vocabulary rejects objects of
 * the MLS types.
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

  return federation;
}

/**
 * A queued delivery as Fedify 2.3.6's outbox queue reads it (its `OutboxMessage`, which Fedify does not export):
 * what `forwardActivity` enqueues. Fedify's queue handler signs and posts it, retries it and keeps the circuit
 * breaker, as for its own.
 */
interface OutboxMessage {
  readonly type: "outbox";
  readonly id: string;
  readonly baseUrl: string;
  readonly keys: readonly { readonly keyId: string; readonly privateKey: webcrypto.JsonWebKey }[];
  readonly activity: JsonObject;
  readonly activityId?: string;
  readonly activityType: string;
  readonly inbox: string;
  readonly sharedInbox: boolean;
  readonly actorIds: readonly string[];
  readonly started: string;
  readonly attempt: 0;
  readonly headers: Record<string, string>;
  readonly orderingKey: string;
  readonly traceContext: Record<string, string>;
  /**
   * Ours: the receiving server keeps the order of pipelined deliveries, so the queue may have several of this
   * ordering key in flight (numbered in `headers`). Fedify ignores it and keeps it in retries.
   */
  readonly sequenced: boolean;
}

/**
 * Queues an activity of a local user for delivery to remote recipients, unchanged (the MLS fields survive):
 * the messages Fedify's `forwardActivity` would queue, written directly. Going through Fedify's outbox
 * listener instead (`federation.fetch` of an internal POST) parsed the activity as JSON-LD and exported the
 * private key as JWK for every post, about half of a post's CPU; here the key is exported once per user.
 */
export function deliveryHandoff(
  federation: Federation<ContextData>,
  origin: string,
  users: Users,
  queue: DrainableQueue,
): DeliveryHandoff {
  const context = federation.createContext(new URL(origin), {});
  // Only the RSA key signs requests (Fedify's draft-cavage and RFC 9421 alike; forwarding adds no proof).
  const signers = new Map<string, Promise<OutboxMessage["keys"]>>();
  const signer = (name: string): Promise<OutboxMessage["keys"]> => {
    let keys = signers.get(name);
    if (keys === undefined) {
      keys = (async () => {
        const published = await context.getActorKeyPairs(name);
        const pairs = await users.keyPairs(name);
        const rsa = pairs.findIndex(({ privateKey }) => privateKey.algorithm.name === "RSASSA-PKCS1-v1_5");
        const keyId = published[rsa]?.keyId;
        const privateKey = pairs[rsa]?.privateKey;
        if (keyId === undefined || privateKey === undefined) {
          throw new Error(`${name} has no RSA key to sign deliveries with`);
        }
        return [{ keyId: keyId.href, privateKey: await exportJwk(privateKey) }];
      })();
      keys.catch(() => signers.delete(name));
      signers.set(name, keys);
    }
    return keys;
  };
  return async (name) => {
    const keys = await signer(name);
    return (activity, handoff) => {
      const [type] = typesOf(activity);
      const started = new Date().toISOString();
      // One message per inbox, as Fedify's extractInboxes groups them. A shared inbox could not tell whom a
      // blind copy is for: blind recipients get theirs at their personal inbox.
      const messages = new Map<string, OutboxMessage>();
      const add = (actors: readonly RemoteActor[], preferShared: boolean): void => {
        for (const { recipient, sequenced } of actors) {
          const shared = preferShared ? recipient.endpoints?.sharedInbox : null;
          const inbox = shared ?? recipient.inboxId;
          if (inbox === null || recipient.id === null) continue;
          const earlier = messages.get(inbox.href);
          messages.set(inbox.href, {
            type: "outbox",
            id: crypto.randomUUID(),
            baseUrl: origin,
            keys,
            activity,
            ...(linkId(activity) === undefined ? {} : { activityId: linkId(activity) as string }),
            activityType: `https://www.w3.org/ns/activitystreams#${type}`,
            inbox: inbox.href,
            sharedInbox: shared != null,
            actorIds: [...(earlier?.actorIds ?? []), recipient.id.href],
            started,
            attempt: 0,
            headers: {},
            // One sender's activities stay in order per receiving server: MLS applies them in order, and
            // epochs must not arrive reversed.
            orderingKey: `${name}\n${inbox.origin}`,
            traceContext: {},
            sequenced: sequenced && (earlier?.sequenced ?? true),
          });
        }
      };
      add(handoff.recipients, true);
      add(handoff.blind, false);
      return Promise.all(
        [...messages.values()].map((m) => queue.enqueue(m, { orderingKey: m.orderingKey })),
      ).then(() => undefined);
    };
  };
}

import { type KeyCache, verifyRequest } from "@fedify/fedify";
import type { DocumentLoader } from "@fedify/vocab-runtime";
import { firstLinkId, isJsonObject, type JsonObject } from "@sotto/core";

import { parseSequence, SEQUENCE_HEADER } from "@sotto/shared/sequence";
import type { DeliveryOrder } from "./deliveryOrder.js";
import { ServerError } from "./errors.js";

export interface InboxDeps {
  readonly documentLoader: DocumentLoader;
  readonly contextLoader: DocumentLoader;
  readonly keyCache: KeyCache;
  /** Keeps the order of pipelined deliveries (those with a `Sotto-Sequence` header). */
  readonly order: DeliveryOrder;
  /**
   * Puts the verified activity into the addressed local users' mailboxes; calls `written` once its writes are
   * issued to a commit the next delivery may share (SQLite's group commit), if it can tell.
   */
  readonly deliver: (
    activity: JsonObject,
    recipient: string | undefined,
    written?: () => void,
  ) => Promise<void>;
}

/**
 * The S2S inbox (personal, or shared when `recipient` is undefined). Fedify's `verifyRequest` checks the HTTP
 * Signature (draft-cavage or RFC 9421, with the body digest); the signing key must belong to the activity's
 * actor. The JSON itself is read as received, because Fedify's vocabulary would refuse the MLS object types.
 * Ordinary Fediverse traffic is accepted into the inbox and otherwise ignored. A sotto-server's pipelined
 * deliveries are stored in their sender's order (deliveryOrder.ts); 202 means stored.
 */
export async function receive(
  request: Request,
  body: Uint8Array,
  received: unknown,
  recipient: string | undefined,
  deps: InboxDeps,
): Promise<Response> {
  if (!isJsonObject(received)) throw new ServerError("invalid_activity", "the body must be a JSON object");
  const actorId = firstLinkId(received.actor);
  if (actorId === undefined) throw new ServerError("invalid_activity", "the activity has no actor");
  // The key cache spares a fetch and a JSON-LD parse of the sender's key document per delivery; the body, read
  // already, is what the digest is checked against (no clone of the request, patches/README.md).
  const key = await verifyRequest(request, {
    documentLoader: deps.documentLoader,
    contextLoader: deps.contextLoader,
    keyCache: deps.keyCache,
    body,
  }).catch(() => null);
  if (key === null)
    throw new ServerError("unauthorized", "the request's HTTP Signature does not verify", 401);
  if (key.ownerId?.href !== actorId) {
    throw new ServerError("unauthorized", "the signing key does not belong to the activity's actor", 401);
  }
  const store = (written?: () => void) => deps.deliver(received, recipient, written);
  const sequence = parseSequence(request.headers.get(SEQUENCE_HEADER));
  await (sequence === undefined ? store() : deps.order.inOrder(actorId, sequence, store));
  return new Response(null, { status: 202 });
}

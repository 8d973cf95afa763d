import { randomUUID } from "node:crypto";
import {
  ACTIVITYSTREAMS_CONTEXT,
  asList,
  err,
  isJsonObject,
  isPublicCollection,
  type JsonObject,
  linkId,
  MLS_CONTEXT,
  normalizeTerms,
  ok,
  type Result,
  stripTermPrefix,
  typesOf,
} from "@sotto/core";
import { applyKeyPackageActivity, carriesMls, MlsDeliveryError, validateMls } from "@sotto/fedify";
import { ServerError } from "./errors.js";
import type { DeliveryHandoff, RemoteActor } from "./federation.js";
import { addressees, deliverLocally, type MailboxLogs } from "./mailboxes.js";
import type { Paths } from "./paths.js";
import type { ServerStore } from "./store.js";

// Activity types of AS2; anything else posted to the outbox is an object to wrap in a Create (AP §6.2.1).
const ACTIVITY_TYPES = new Set([
  "Accept",
  "Add",
  "Announce",
  "Arrive",
  "Block",
  "Create",
  "Delete",
  "Dislike",
  "Flag",
  "Follow",
  "Ignore",
  "Invite",
  "Join",
  "Leave",
  "Like",
  "Listen",
  "Move",
  "Offer",
  "Question",
  "Reject",
  "Read",
  "Remove",
  "TentativeReject",
  "TentativeAccept",
  "Travel",
  "Undo",
  "Update",
  "View",
  "Activity",
  "IntransitiveActivity",
]);
const SUPPORTED = new Set(["Create", "Update", "Delete", "Add", "Remove"]);
const ADDRESSING = ["to", "cc", "bto", "bcc", "audience"] as const;

/** What a remote addressee turned out to be. */
export type Resolved =
  | ({ readonly kind: "actor" } & RemoteActor)
  | { readonly kind: "collection" }
  | undefined;

export interface OutboxDeps {
  readonly paths: Paths;
  readonly userExists: (name: string) => Promise<boolean>;
  readonly store: ServerStore;
  readonly logs: MailboxLogs;
  readonly resolve: (iri: string) => Promise<Resolved>;
  /** Queues the activity, unchanged, for delivery to remote inboxes (Fedify's outbox queue). */
  readonly handoff: DeliveryHandoff;
  /**
   * Whether writes started in one event-loop turn commit together, in the order they were started (SQLite's
   * group commit): then a post and its hand-off are started together, one disk sync instead of two in a row.
   */
  readonly sharedCommits: boolean;
}

type PostError = ServerError | MlsDeliveryError;

/**
 * Handles a C2S POST to `name`'s outbox: wraps a bare object in a Create, assigns ids, validates (MLS objects,
 * ownership, addressing), applies the KeyPackage lifecycle, queues remote delivery, stores, and delivers to
 * local recipients. Every check runs before anything is written, so a refused post stores nothing.
 */
export async function postToOutbox(
  deps: OutboxDeps,
  name: string,
  posted: unknown,
  /** Called once the post's writes are issued, with shared commits (the next post may then start its own). */
  written?: () => void,
): Promise<Result<JsonObject, PostError>> {
  const { paths } = deps;
  const actorId = paths.actor(name);
  const normalized = normalize(posted, actorId, (kind) => paths.mint(name, kind, randomUUID()));
  if (!normalized.ok) return normalized;
  const { activity, aliases } = normalized.value;
  const [type] = typesOf(activity);

  const isMls = carriesMls(activity) && (type === "Create" || type === "Update" || type === "Add");
  const isLocalCollection = (iri: string): boolean =>
    iri.startsWith(`${paths.origin}/`) && paths.localActor(iri) === undefined;
  if (isMls) {
    const valid = validateMls(activity, { actorId, isCollection: isLocalCollection });
    if (!valid.ok) return valid;
  }

  // Recipients: local users directly, remote actors through the queue; MLS may go to actors only.
  const local: string[] = [];
  const remote: RemoteActor[] = [];
  const blind: RemoteActor[] = [];
  const visible = new Set(addressees(withoutBlindCopies(activity)));
  for (const iri of addressees(activity)) {
    if (isPublicCollection(iri)) continue;
    const user = paths.localActor(iri);
    if (user !== undefined) {
      if (await deps.userExists(user)) local.push(user);
      continue;
    }
    if (iri.startsWith(`${paths.origin}/`)) continue;
    const resolved = await deps.resolve(iri);
    if (resolved?.kind === "actor") (visible.has(iri) ? remote : blind).push(resolved);
    else if (resolved?.kind === "collection" && isMls) {
      return err(
        new MlsDeliveryError("addressed_to_collection", `${iri} is a collection; MLS goes to actors only`),
      );
    } else if (resolved === undefined) {
      return err(new ServerError("recipient_unreachable", `could not resolve recipient ${iri}`, 502));
    }
  }

  const { store } = deps;
  const lifecycle = await applyKeyPackageActivity(store.keyPackages, activity, {
    actorId,
    collectionId: paths.keyPackages(name),
    resolveId: async (id) => {
      const renamed = (await store.resolveAlias(name, id)) ?? id;
      const created = await store.outbox.find(name, renamed);
      return created === undefined ? renamed : linkId(created.activity.object);
    },
  });
  if (!lifecycle.ok) return lifecycle;
  if (lifecycle.value === undefined && type !== "Create") {
    return err(new ServerError("unsupported_activity", `${type} is supported for KeyPackages only`));
  }

  // bto and bcc name recipients but are never shown to them (AP §6.1).
  const delivered = withoutBlindCopies(activity);
  // In the outbox before it can be delivered: whatever a receiver gets, the sender's outbox lists (a post cut
  // short after its hand-off, by a close say, would otherwise be delivered without a record).
  const activityId = linkId(activity) as string;
  const object = activity.object;
  const objectId =
    type === "Create" && isJsonObject(object) && lifecycle.value === undefined ? linkId(object) : undefined;
  const queue =
    remote.length + blind.length > 0
      ? await deps.handoff(name).then((send) => () => send(delivered, { recipients: remote, blind }))
      : undefined;
  const posting = store.post(name, {
    activity,
    ...(objectId !== undefined && isJsonObject(object) ? { object: { id: objectId, json: object } } : {}),
    aliases,
  });
  // With shared commits the post is written first in the same transaction as its deliveries, which cannot start
  // before it commits. The post alone fails there only on a duplicate id posted concurrently: the outbox then
  // lists that id, and receivers store an activity once.
  const queuing = deps.sharedCommits ? queue?.() : posting.then(() => queue?.());
  if (deps.sharedCommits) written?.();
  const [stored, queued] = await Promise.allSettled([posting, queuing]);
  if (stored.status === "rejected") throw stored.reason;
  if (queued.status === "rejected") {
    await store.unpost(name, activityId, objectId);
    throw queued.reason;
  }
  for (const user of new Set(local)) await deliverLocally(deps.logs, user, delivered);
  return ok(activity);
}

function withoutBlindCopies(activity: JsonObject): JsonObject {
  const { bto: _bto, bcc: _bcc, ...shown } = activity;
  if (!isJsonObject(shown.object)) return shown;
  const { bto: _objectBto, bcc: _objectBcc, ...object } = shown.object;
  return { ...shown, object };
}

/**
 * Plain MLS and AS terms (`mls:content` -> `content`, `mls:KeyPackage` -> `KeyPackage`), as Bonfire's clients
 * may prefix them: what the server stores and sends uses the terms of the contexts it names.
 */
function plainTerms(node: JsonObject): JsonObject {
  const plain = normalizeTerms(node);
  const type = Array.isArray(plain.type)
    ? plain.type.map((t: unknown) => (typeof t === "string" ? stripTermPrefix(t) : t))
    : typeof plain.type === "string"
      ? stripTermPrefix(plain.type)
      : plain.type;
  const object = isJsonObject(plain.object) ? plainTerms(plain.object) : plain.object;
  return { ...plain, ...(type === undefined ? {} : { type }), ...(object === undefined ? {} : { object }) };
}

/** A posted activity with the server's ids, and the client's ids it replaced: [client id, server id]. */
interface Normalized {
  readonly activity: JsonObject;
  readonly aliases: readonly (readonly [string, string])[];
}

function normalize(
  body: unknown,
  actorId: string,
  mint: (kind: "activities" | "objects") => string,
): Result<Normalized, ServerError> {
  if (!isJsonObject(body)) return err(new ServerError("invalid_activity", "the body must be a JSON object"));
  const posted = plainTerms(body);
  const [type] = typesOf(posted);
  if (type === undefined) return err(new ServerError("invalid_activity", "the posted object has no type"));
  const context = posted["@context"] ?? [ACTIVITYSTREAMS_CONTEXT, MLS_CONTEXT];
  let activity: JsonObject;
  if (ACTIVITY_TYPES.has(type)) {
    if (!SUPPORTED.has(type)) {
      return err(new ServerError("unsupported_activity", `the outbox does not accept ${type} activities`));
    }
    const actors = asList(posted.actor).map(linkId);
    if (actors.some((a) => a !== actorId)) {
      return err(new ServerError("not_owner", "the activity's actor is not the outbox owner", 403));
    }
    activity = posted;
  } else {
    const addressing = Object.fromEntries(ADDRESSING.filter((p) => p in posted).map((p) => [p, posted[p]]));
    const { "@context": _, ...object } = posted;
    activity = { type: "Create", ...addressing, object };
  }
  let object = activity.object;
  const wantsObjectId = type !== undefined && (activity === posted ? ["Create", "Add"].includes(type) : true);
  const aliases: [string, string][] = [];
  if (isJsonObject(object) && wantsObjectId) {
    const author = asList(object.attributedTo).map(linkId);
    if (author.some((a) => a !== actorId)) {
      return err(new ServerError("not_owner", "the object's attributedTo is not the outbox owner", 403));
    }
    const ownId = typeof object.id === "string" && object.id.startsWith(`${actorId}/`);
    const id = ownId ? (object.id as string) : mint("objects");
    if (typeof object.id === "string" && !ownId) aliases.push([object.id, id]);
    object = { ...object, id, attributedTo: actorId };
  }
  const id = mint("activities");
  if (activity === posted && typeof posted.id === "string") aliases.push([posted.id, id]);
  return ok({
    activity: {
      ...activity,
      "@context": context,
      id,
      actor: actorId,
      ...(object === undefined ? {} : { object }),
      published: typeof activity.published === "string" ? activity.published : new Date().toISOString(),
    },
    aliases,
  });
}

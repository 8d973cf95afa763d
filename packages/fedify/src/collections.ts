import { ACTIVITYSTREAMS_CONTEXT, type JsonObject, MLS_CONTEXT } from "@sotto/core";
import { eventStream } from "./events.js";
import type { ActivityFeed } from "./feed.js";
import { positionOf } from "./position.js";
import { errorResponse, jsonBytesResponse, jsonResponse } from "./responses.js";
import { type ActivityLog, jsonOf, type LoggedActivity } from "./storage.js";

const CONTEXT = [ACTIVITYSTREAMS_CONTEXT, MLS_CONTEXT];
/** The property of the SSE-for-the-ActivityPub-API draft naming a collection's push stream. */
export const EVENT_STREAM = "https://purl.archive.org/socialweb/sse#eventStream";
const CONTEXT_WITH_EVENT_STREAM = [...CONTEXT, { eventStream: { "@id": EVENT_STREAM, "@type": "@id" } }];

export interface LogCollection {
  readonly log: ActivityLog;
  /** Live readers of this log; enables `Accept: text/event-stream`. */
  readonly feed?: ActivityFeed;
  readonly owner: string;
  /** The collection's URL (e.g. the actor's `messages`). */
  readonly id: string;
  /** Items per page (default 20, at most 200 through `limit`). */
  readonly pageSize?: number;
  /**
   * The position of an item this log does not hold under that id, for `after` and `Last-Event-ID`: an alias the
   * host keeps (a client's own id for an activity the server renamed), or `undefined` when unknown.
   */
  readonly cursor?: (id: string) => Promise<number | undefined>;
}

const MAX_PAGE = 200;

function wantsEventStream(request: Request): boolean {
  return (request.headers.get("accept") ?? "").includes("text/event-stream");
}

/**
 * Serves an owner-only log (the `messages` collection, or the inbox) — the caller has checked the owner:
 * - no query: the OrderedCollection (`totalItems`, `first`, `last`);
 * - `?after=<activity id>&limit=n`: forward reading, oldest to newest strictly after that item (no `after`
 *   value = from the oldest), with `next` while more exist — the seekItem reading the spec asks for;
 * - `?page=first|last` or `?before=<seq>`: pages newest first;
 * - `Accept: text/event-stream`: Server-Sent Events of new items, `Last-Event-ID` replaying what was missed.
 */
export async function respondWithLog(request: Request, collection: LogCollection): Promise<Response> {
  if (wantsEventStream(request) && collection.feed !== undefined) {
    return eventStream(request, collection, collection.feed);
  }
  const params = new URL(request.url).searchParams;
  const size = pageSize(params.get("limit"), collection.pageSize);
  if (size === undefined)
    return errorResponse(400, "invalid_limit", `limit must be an integer from 1 to ${MAX_PAGE}`);
  if (params.has("after")) return forwardPage(collection, params.get("after") ?? "", size);
  const page = params.get("page");
  const before = params.get("before");
  if (before !== null) {
    const seq = Number(before);
    if (!Number.isSafeInteger(seq))
      return errorResponse(400, "invalid_cursor", "before must be an item number");
    return newestPage(collection, seq, size);
  }
  if (page === "first") return newestPage(collection, undefined, size);
  if (page === "last") return lastPage(collection, size);
  const total = await collection.log.count(collection.owner);
  const live = collection.feed !== undefined;
  return jsonResponse({
    "@context": live ? CONTEXT_WITH_EVENT_STREAM : CONTEXT,
    id: collection.id,
    type: "OrderedCollection",
    // Clients that push only where the collection says so (Emissary's) open the same URL as an event stream.
    ...(live ? { eventStream: collection.id } : {}),
    totalItems: total,
    first: `${collection.id}?page=first`,
    last: `${collection.id}?page=last`,
  });
}

function pageSize(limit: string | null, configured = 20): number | undefined {
  if (limit === null) return configured;
  const n = Number(limit);
  return Number.isInteger(n) && n >= 1 && n <= MAX_PAGE ? n : undefined;
}

const COMMA = Buffer.from(",");
const END = Buffer.from("]}");

function page(collection: LogCollection, id: string, items: LoggedActivity[], links: JsonObject): Response {
  // The items' stored JSON is spliced in as it is (parsing and serialising them again was most of a page's
  // cost, issue 20): `orderedItems` is the last key, so the page without items ends in `[]}`. Small buffers
  // joined once cost less than joining the strings and encoding the result.
  const empty = JSON.stringify({
    "@context": CONTEXT,
    id,
    type: "OrderedCollectionPage",
    partOf: collection.id,
    ...links,
    orderedItems: [],
  });
  const parts = [Buffer.from(`${empty.slice(0, -"[]}".length)}[`)];
  for (const [index, item] of items.entries()) {
    if (index > 0) parts.push(COMMA);
    parts.push(Buffer.from(jsonOf(item)));
  }
  parts.push(END);
  return jsonBytesResponse(Buffer.concat(parts));
}

async function forwardPage(collection: LogCollection, after: string, size: number): Promise<Response> {
  const { log, owner, id } = collection;
  let from = 0;
  if (after !== "") {
    const anchor = await positionOf(collection, after);
    if (anchor === undefined)
      return errorResponse(404, "unknown_item", "after names no item of this collection");
    from = anchor;
  }
  // One extra item tells whether a next page exists.
  const items = await log.after(owner, from, size + 1);
  const shown = items.slice(0, size);
  const last = shown.at(-1);
  const self = `${id}?after=${encodeURIComponent(after)}&limit=${size}`;
  return page(
    collection,
    self,
    shown,
    items.length > size && last !== undefined
      ? { next: `${id}?after=${encodeURIComponent(last.id)}&limit=${size}` }
      : {},
  );
}

async function newestPage(
  collection: LogCollection,
  before: number | undefined,
  size: number,
): Promise<Response> {
  const { log, owner, id } = collection;
  const items = await log.newest(owner, { ...(before === undefined ? {} : { before }), limit: size + 1 });
  const shown = items.slice(0, size);
  const oldest = shown.at(-1);
  const newest = shown[0];
  const self = before === undefined ? `${id}?page=first` : `${id}?before=${before}`;
  return page(collection, self, shown, {
    ...(items.length > size && oldest !== undefined
      ? { next: `${id}?before=${oldest.seq}&limit=${size}` }
      : {}),
    ...(newest !== undefined && before !== undefined
      ? { prev: `${id}?after=${encodeURIComponent(newest.id)}&limit=${size}` }
      : {}),
  });
}

async function lastPage(collection: LogCollection, size: number): Promise<Response> {
  const { log, owner, id } = collection;
  const oldest = await log.after(owner, 0, size);
  const newest = oldest.at(-1);
  return page(collection, `${id}?page=last`, oldest.reverse(), {
    ...(newest !== undefined ? { prev: `${id}?after=${encodeURIComponent(newest.id)}&limit=${size}` } : {}),
  });
}

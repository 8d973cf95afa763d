import type { LogCollection } from "./collections.js";
import type { ActivityFeed } from "./feed.js";
import { positionOf } from "./position.js";
import { errorResponse } from "./responses.js";
import { jsonOf, type LoggedActivity } from "./storage.js";

const encoder = new TextEncoder();
const KEEPALIVE_MS = 15_000;
const REPLAY_BATCH = 200;

function sseEvent(item: LoggedActivity): Uint8Array {
  // JSON.stringify (which wrote the stored JSON) never emits raw newlines: one `data:` line carries the activity.
  return encoder.encode(`id: ${item.id}\ndata: ${jsonOf(item)}\n\n`);
}

/**
 * Server-Sent Events of a log's new items: `id:` = activity id, `data:` = the activity JSON. With
 * `Last-Event-ID`, everything after that item is replayed first.
 */
export async function eventStream(
  request: Request,
  collection: LogCollection,
  feed: ActivityFeed,
): Promise<Response> {
  const { log, owner } = collection;
  const lastEventId = request.headers.get("last-event-id");
  let from: number | undefined;
  if (lastEventId !== null && lastEventId !== "") {
    from = await positionOf(collection, lastEventId);
    if (from === undefined)
      return errorResponse(404, "unknown_item", "Last-Event-ID names no item of this collection");
  }
  // Checked in the same turn as the subscription below (a stream's start runs synchronously up to its first await).
  if (feed.full(owner)) {
    return errorResponse(
      429,
      "too_many_streams",
      "this owner has too many open event streams; close one first",
    );
  }
  let cleanup = (): void => {};
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      // Subscribe before replaying, and drop live items the replay already sent, so none is lost in between.
      let sent = from ?? 0;
      const pending: LoggedActivity[] = [];
      let live = false;
      let open = true;
      const send = (item: LoggedActivity): void => {
        if (open && item.seq > sent) {
          controller.enqueue(sseEvent(item));
          sent = item.seq;
        }
      };
      const unsubscribe = feed.subscribe(owner, {
        next: (item) => (live ? send(item) : pending.push(item)),
        end: () => {
          cleanup();
          controller.close();
        },
      });
      const keepalive = setInterval(
        () => controller.enqueue(encoder.encode(": keepalive\n\n")),
        KEEPALIVE_MS,
      );
      keepalive.unref();
      cleanup = () => {
        open = false;
        clearInterval(keepalive);
        unsubscribe();
      };
      controller.enqueue(encoder.encode(": stream open\n\n"));
      if (from !== undefined) {
        for (;;) {
          const batch = await log.after(owner, sent, REPLAY_BATCH);
          for (const item of batch) send(item);
          if (batch.length < REPLAY_BATCH || !open) break;
        }
      }
      for (const item of pending) send(item);
      live = true;
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(body, {
    status: 200,
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
  });
}

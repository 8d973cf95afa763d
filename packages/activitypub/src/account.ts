import type { Actor } from "./actor.js";
import type { ActivityPubClient } from "./client.js";
import { type CollectionPage, readPage } from "./collection.js";
import { ActivityPubError } from "./errors.js";
import { backoffDelay, defaultRetryPolicy, sleep } from "./retry.js";
import { parseServerSentEvents } from "./sse.js";

/** One activity received by the account, as received JSON. `id` is the cursor to read on from. */
export interface ReceivedItem {
  readonly id?: string;
  readonly activity: unknown;
}

export interface FollowOptions {
  /** Read strictly after this activity id; from the oldest when absent. */
  readonly after?: string;
  readonly signal?: AbortSignal;
  /** Page size for catching up. */
  readonly limit?: number;
  /** How often to poll when the server offers no event stream. */
  readonly pollIntervalMs?: number;
  /** Reconnect an event stream that stayed silent this long (servers may not send keep-alives). */
  readonly idleMs?: number;
  /** Called when the way of following changes, for logs and status ("stream" | "poll" | "catch_up"). */
  readonly onMode?: (mode: "catch_up" | "stream" | "poll") => void;
  /** Called with each failure that follow() retries itself (it never gives up while the signal is live). */
  readonly onError?: (error: ActivityPubError) => void;
}

export interface PostResult {
  /** The id the server gave the activity (`Location`, else the body's `id`). */
  readonly id?: string;
  readonly body: unknown;
}

/**
 * One account on its home server, as its owner sees it through C2S: posting to the outbox with the bearer
 * token, and reading the owner-only `messages` collection (falling back to `inbox`) forward from a cursor,
 * live through Server-Sent Events when offered, by polling otherwise.
 */
export class Account {
  readonly client: ActivityPubClient;
  readonly actorId: string;
  readonly #token: string;
  #actor: Actor | undefined;
  /** The first fetch of the actor while it runs: callers that start together share it. */
  #fetching: Promise<Actor> | undefined;

  constructor(client: ActivityPubClient, actorId: string, token: string) {
    this.client = client;
    this.actorId = actorId;
    this.#token = token;
  }

  /**
   * The account's own actor document (fetched once, then kept; `refresh` fetches it again). Callers that ask
   * before the first fetch ended share it (a daemon's sync, outbox and KeyPackage upkeep start together).
   */
  async actor(options: { signal?: AbortSignal; refresh?: boolean } = {}): Promise<Actor> {
    if (this.#actor !== undefined && !options.refresh) return this.#actor;
    if (this.#fetching !== undefined && !options.refresh) return this.#fetching;
    const fetching = this.client.getActor(this.actorId, { signal: options.signal });
    this.#fetching = fetching;
    try {
      this.#actor = await fetching;
      return this.#actor;
    } finally {
      if (this.#fetching === fetching) this.#fetching = undefined;
    }
  }

  /**
   * Posts an activity (or a bare object, which the server wraps in a Create) to the outbox. `headers` go with
   * the request (`Sotto-Sequence`, say).
   */
  async post(
    activity: object,
    signal?: AbortSignal,
    headers?: Readonly<Record<string, string>>,
  ): Promise<PostResult> {
    const actor = await this.actor({ signal });
    if (actor.outbox === undefined) {
      throw new ActivityPubError("invalid_response", `actor ${actor.id} has no outbox`, { url: actor.id });
    }
    const response = await this.client.http.json(actor.outbox, {
      method: "POST",
      token: this.#token,
      json: activity,
      signal,
      ...(headers === undefined ? {} : { headers }),
    });
    const location = response.headers.get("location");
    const bodyId = (response.body as { id?: unknown } | null)?.id;
    return {
      id:
        location !== null
          ? new URL(location, actor.outbox).href
          : typeof bodyId === "string"
            ? bodyId
            : undefined,
      body: response.body,
    };
  }

  /** Where received activities are read: `messages` when the server has it, else `inbox`. */
  async receivedUrl(signal?: AbortSignal): Promise<string> {
    const actor = await this.actor({ signal });
    return actor.messages ?? actor.inbox;
  }

  /** One page of received activities strictly after `after` (oldest first), with `next` when more exist. */
  async page(
    options: { after?: string; limit?: number; url?: string; signal?: AbortSignal } = {},
  ): Promise<CollectionPage> {
    let url = options.url;
    if (url === undefined) {
      const base = new URL(await this.receivedUrl(options.signal));
      // An empty `after` reads from the oldest item (a bare collection URL would answer newest first).
      base.searchParams.set("after", options.after ?? "");
      base.searchParams.set("limit", String(options.limit ?? 100));
      url = base.href;
    }
    const json = await this.client.getObject(url, { token: this.#token, signal: options.signal });
    const page = readPage(json, url);
    if (page.first === undefined || typeof page.first !== "object") return page;
    return readPage(page.first, url);
  }

  /**
   * Every received activity after `after`, oldest first, paging until the server has no `next`. The next page
   * is read while the consumer takes this one's items (one page ahead, no more).
   */
  async *catchUp(
    options: { after?: string; limit?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<ReceivedItem> {
    let page = await this.page(options);
    for (;;) {
      const next =
        page.next === undefined || page.items.length === 0
          ? undefined
          : this.page({ url: page.next, signal: options.signal });
      // Its failure is thrown where it is awaited; a consumer that stops early never awaits it.
      next?.catch(() => {});
      for (const activity of page.items) yield { id: idOf(activity), activity };
      if (next === undefined) return;
      page = await next;
    }
  }

  /**
   * Received activities from `after` on, forever (until the signal aborts): first catch up by paging, then
   * follow the event stream with `Last-Event-ID`; when the stream drops, page again from the last id seen
   * (so a gap is never skipped) and reconnect with backoff. Servers without an event stream are polled.
   * The consumer pulls: nothing is read more than one page ahead of what it has taken.
   */
  async *follow(options: FollowOptions = {}): AsyncGenerator<ReceivedItem> {
    const signal = options.signal;
    let cursor = options.after;
    let streamOffered = true;
    let failures = 0;
    while (!signal?.aborted) {
      try {
        options.onMode?.("catch_up");
        for await (const item of this.catchUp({ after: cursor, limit: options.limit, signal })) {
          yield item;
          if (item.id !== undefined) cursor = item.id;
        }
        if (streamOffered) {
          const stream = await this.#openStream(cursor, signal);
          if (stream === undefined) {
            streamOffered = false;
          } else {
            options.onMode?.("stream");
            failures = 0;
            for await (const item of this.#readStream(stream, options.idleMs ?? 90_000)) {
              yield item;
              if (item.id !== undefined) cursor = item.id;
            }
            continue;
          }
        }
        options.onMode?.("poll");
        failures = 0;
        await sleep(options.pollIntervalMs ?? 2_000, signal);
      } catch (error) {
        if (signal?.aborted) return;
        const failure =
          error instanceof ActivityPubError
            ? error
            : new ActivityPubError(
                "network",
                `following failed: ${(error as Error)?.message ?? String(error)}`,
                {},
                { cause: error },
              );
        options.onError?.(failure);
        await sleep(
          failure.retryAfterMs ?? backoffDelay(failures++, { ...defaultRetryPolicy, maxDelayMs: 30_000 }),
          signal,
        ).catch(() => {});
      }
    }
  }

  async #openStream(
    after: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ response: Response; close: () => void } | undefined> {
    const url = await this.receivedUrl(signal);
    let opened: { response: Response; close: () => void };
    try {
      opened = await this.client.http.stream(url, {
        accept: "text/event-stream",
        token: this.#token,
        headers: after === undefined ? {} : { "last-event-id": after },
        signal,
      });
    } catch (error) {
      // A server that refuses the media type (406, 404, 405...) has no stream to offer: poll instead.
      if (
        error instanceof ActivityPubError &&
        (error.code === "client_error" || error.code === "not_found")
      ) {
        return undefined;
      }
      throw error;
    }
    if (!(opened.response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      opened.close();
      return undefined;
    }
    // Aborted while the headers came: a listener added now would never fire, and the stream would stay open.
    if (signal?.aborted) {
      opened.close();
      throw signal.reason;
    }
    // Closing removes the listener: a follow() that reconnects for days must not pile them up on its signal.
    const close = () => {
      signal?.removeEventListener("abort", close);
      opened.close();
    };
    signal?.addEventListener("abort", close, { once: true });
    return { response: opened.response, close };
  }

  async *#readStream(
    stream: { response: Response; close: () => void },
    idleMs: number,
  ): AsyncGenerator<ReceivedItem> {
    const body = stream.response.body;
    if (body === null) return;
    let idle = setTimeout(stream.close, idleMs);
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(stream.close, idleMs);
    };
    try {
      for await (const event of parseServerSentEvents(body, touch)) {
        if (event.event !== "message") continue;
        let activity: unknown;
        try {
          activity = JSON.parse(event.data);
        } catch {
          // A garbled event: the next catch-up pages over it from the cursor, so nothing is lost.
          throw new ActivityPubError("invalid_response", "event stream sent an event that is not JSON");
        }
        yield { id: event.id ?? idOf(activity), activity };
      }
    } catch (error) {
      // An idle close or a dropped connection ends the stream like the server closing it: catch up again.
      if (error instanceof ActivityPubError) throw error;
    } finally {
      clearTimeout(idle);
      stream.close();
    }
  }
}

function idOf(activity: unknown): string | undefined {
  const id = (activity as { id?: unknown } | null)?.id;
  return typeof id === "string" ? id : undefined;
}

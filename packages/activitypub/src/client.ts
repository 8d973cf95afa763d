import { type Actor, readActor } from "./actor.js";
import { readPage } from "./collection.js";
import { ActivityPubError } from "./errors.js";
import { parseActorReference } from "./handle.js";
import { Http, type HttpOptions } from "./http.js";
import { webFingerActorId } from "./webfinger.js";

export interface ActivityPubClientOptions extends HttpOptions {
  /** Ask WebFinger over plain HTTP (loopback test servers, development). Never in production. */
  readonly plainHttpWebFinger?: boolean;
  /** Upper bound on pages followed through one collection. */
  readonly maxPages?: number;
}

export interface ReadOptions {
  /** Bearer token, for owner-only resources. */
  readonly token?: string;
  readonly signal?: AbortSignal;
}

/**
 * Reads the public side of the fediverse: handles, actors, objects and collections. Everything is raw JSON as
 * served (Fedify's typed vocabulary drops the MLS properties), checked only for the shape this layer needs.
 */
export class ActivityPubClient {
  readonly http: Http;
  readonly #plainHttpWebFinger: boolean;
  readonly #maxPages: number;

  constructor(options: ActivityPubClientOptions = {}) {
    this.http = new Http(options);
    this.#plainHttpWebFinger = options.plainHttpWebFinger ?? false;
    this.#maxPages = options.maxPages ?? 1000;
  }

  /** The actor id for a handle (`@user@host`) or an actor URL (returned as given). */
  async resolve(reference: string, signal?: AbortSignal): Promise<string> {
    const parsed = parseActorReference(reference);
    if ("id" in parsed) return parsed.id;
    return webFingerActorId(parsed.handle, this.http, { plainHttp: this.#plainHttpWebFinger, signal });
  }

  /** Fetches and validates an actor document by id (or resolves a handle first). */
  async getActor(reference: string, options: ReadOptions = {}): Promise<Actor> {
    const id = await this.resolve(reference, options.signal);
    const response = await this.http.json(id, options);
    return readActor(response.body, response.url);
  }

  /** Fetches any object as raw JSON. */
  async getObject(url: string, options: ReadOptions = {}): Promise<unknown> {
    const response = await this.http.json(url, options);
    if (response.body === null) {
      throw new ActivityPubError("invalid_response", `empty body at ${url}`, {
        url,
        status: response.status,
      });
    }
    return response.body;
  }

  /**
   * The items of a collection, given by URL or inline, following `first` and `next` through its pages
   * (at most `maxPages`). Items are yielded as found: URL strings or embedded objects.
   */
  async *items(collection: string | object, options: ReadOptions = {}): AsyncGenerator<unknown> {
    let current: string | object | undefined = collection;
    const seen = new Set<string>();
    for (let pages = 0; current !== undefined; pages++) {
      if (pages >= this.#maxPages) {
        throw new ActivityPubError("invalid_response", `collection has more than ${this.#maxPages} pages`);
      }
      let json: unknown;
      let url: string;
      if (typeof current === "string") {
        if (seen.has(current))
          throw new ActivityPubError("invalid_response", `collection pages loop at ${current}`, {
            url: current,
          });
        seen.add(current);
        url = current;
        json = await this.getObject(current, options);
      } else {
        url = String((current as { id?: unknown }).id ?? "(inline collection)");
        json = current;
      }
      const page = readPage(json, url);
      yield* page.items;
      current = page.first ?? page.next;
    }
  }
}

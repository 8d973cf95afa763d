import { link } from "./actor.js";
import { ActivityPubError } from "./errors.js";

/** One page of a collection, read forward. */
export interface CollectionPage {
  readonly items: readonly unknown[];
  readonly next?: string;
}

/**
 * Reads the items of a collection or collection page JSON (`orderedItems` or `items`, an array or a single
 * value) and where to go next. A collection without items of its own points to its `first` page.
 */
export function readPage(json: unknown, url: string): CollectionPage & { readonly first?: string | object } {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ActivityPubError("invalid_response", `collection at ${url} is not an object`, { url });
  }
  const body = json as Record<string, unknown>;
  const listed = body.orderedItems ?? body.items;
  const items = listed === undefined ? [] : Array.isArray(listed) ? listed : [listed];
  const first = typeof body.first === "object" && body.first !== null ? body.first : link(body.first);
  return {
    items,
    next: link(body.next),
    first: listed === undefined ? first : undefined,
  };
}

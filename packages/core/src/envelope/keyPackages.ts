// The actor's `keyPackages` (and `messages`) properties. `keyPackages` comes as an IRI, a collection (with
// `items`/`orderedItems` or a `first` page), a page, an array of links or objects, or a single object; the
// caller fetches what is left to fetch (`next`) and feeds each fetched document to readKeyPackageCollection.
import { err, ok, type Result } from "../result.js";
import { asList, isJsonObject, type JsonObject, linkId, normalizeTerms, typesOf } from "../vocab/json.js";
import { keyPackagesSchema, messagesSchema } from "../vocab/schemas.js";
import { parseJsonText } from "./document.js";
import { EnvelopeError } from "./errors.js";

export type KeyPackageItem =
  | { readonly type: "reference"; readonly id: string }
  | { readonly type: "embedded"; readonly id?: string; readonly object: JsonObject };

export interface KeyPackageListing {
  /** The collection's id, when known. */
  readonly id?: string;
  /** KeyPackages found so far: references to fetch, or embedded objects for readKeyPackageObject. */
  readonly items: readonly KeyPackageItem[];
  /** A collection or page still to fetch (then pass it to readKeyPackageCollection). */
  readonly next?: string;
}

const COLLECTION_TYPES = ["Collection", "OrderedCollection", "CollectionPage", "OrderedCollectionPage"];

/** Reads `keyPackages` (or `mls:keyPackages`) from an actor document. */
export function readKeyPackagesProperty(actor: unknown): Result<KeyPackageListing, EnvelopeError> {
  const parsed = parseJsonText(actor);
  if (!parsed.ok) return parsed;
  if (!isJsonObject(parsed.value)) return err(new EnvelopeError("not_an_object", "expected an actor object"));
  const value = normalizeTerms(parsed.value).keyPackages;
  if (value === undefined) {
    return err(new EnvelopeError("invalid_key_packages", "the actor has no keyPackages", "keyPackages"));
  }
  return readKeyPackageValue(value, "keyPackages");
}

/** Reads a fetched `keyPackages` document: a collection, a page, or a single KeyPackage object. */
export function readKeyPackageCollection(document: unknown): Result<KeyPackageListing, EnvelopeError> {
  const parsed = parseJsonText(document);
  if (!parsed.ok) return parsed;
  if (!isJsonObject(parsed.value)) return err(new EnvelopeError("not_an_object", "expected a collection"));
  return readKeyPackageValue(parsed.value, "");
}

// `isPage`: an embedded first page is read once; its own `first` is not followed (unbounded nesting).
function readKeyPackageValue(
  value: unknown,
  path: string,
  isPage = false,
): Result<KeyPackageListing, EnvelopeError> {
  if (!keyPackagesSchema.safeParse(value).success) {
    return err(new EnvelopeError("invalid_key_packages", "is not an IRI, collection, array or object", path));
  }
  if (typeof value === "string") return ok({ items: [], next: value });
  if (Array.isArray(value)) return listItems(value, path);
  const node = normalizeTerms(value as JsonObject);
  const types = typesOf(node);
  if (!types.some((type) => COLLECTION_TYPES.includes(type))) {
    const single = toItem(node);
    return single === undefined
      ? err(new EnvelopeError("invalid_key_packages", "is neither a collection nor a KeyPackage", path))
      : ok({ items: [single] });
  }
  const listed = listItems([...asList(node.items), ...asList(node.orderedItems)], path);
  if (!listed.ok) return listed;
  const id = linkId(node.id);
  const next = linkId(node.next);
  const first = node.first;
  // A collection that only points at its first page: the page may be embedded or linked.
  if (listed.value.items.length === 0 && first !== undefined && next === undefined && !isPage) {
    if (isJsonObject(first)) {
      const page = readKeyPackageValue(first, `${path}.first`, true);
      return page.ok ? ok({ ...page.value, ...(id === undefined ? {} : { id }) }) : page;
    }
    const firstId = linkId(first);
    return ok({
      ...(id === undefined ? {} : { id }),
      items: [],
      ...(firstId === undefined ? {} : { next: firstId }),
    });
  }
  return ok({
    ...(id === undefined ? {} : { id }),
    items: listed.value.items,
    ...(next === undefined ? {} : { next }),
  });
}

function listItems(values: readonly unknown[], path: string): Result<KeyPackageListing, EnvelopeError> {
  const items: KeyPackageItem[] = [];
  for (const value of values) {
    const item = typeof value === "string" ? ({ type: "reference", id: value } as const) : undefined;
    const resolved = item ?? (isJsonObject(value) ? toItem(normalizeTerms(value)) : undefined);
    if (resolved === undefined) {
      return err(
        new EnvelopeError("invalid_key_packages", "holds an item that is not a link or object", path),
      );
    }
    items.push(resolved);
  }
  return ok({ items });
}

function toItem(node: JsonObject): KeyPackageItem | undefined {
  const id = linkId(node);
  if (node.content !== undefined)
    return { type: "embedded", ...(id === undefined ? {} : { id }), object: node };
  return id === undefined ? undefined : { type: "reference", id };
}

/** Reads the actor's `messages` collection IRI (spec §messages), when it has one. */
export function readMessagesProperty(actor: unknown): Result<string | undefined, EnvelopeError> {
  const parsed = parseJsonText(actor);
  if (!parsed.ok) return parsed;
  if (!isJsonObject(parsed.value)) return err(new EnvelopeError("not_an_object", "expected an actor object"));
  const value = normalizeTerms(parsed.value).messages;
  if (value === undefined) return ok(undefined);
  if (!messagesSchema.safeParse(value).success) {
    return err(new EnvelopeError("invalid_property", "is not an IRI or a collection", "messages"));
  }
  return ok(linkId(value));
}

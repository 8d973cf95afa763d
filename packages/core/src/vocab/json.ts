// Small readers for the loose shapes JSON-LD allows: a value or an array of values, a link as a string or an
// object with an `id`, property names with or without a namespace prefix.
import { stripTermPrefix } from "./context.js";

export type JsonObject = Readonly<Record<string, unknown>>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Returns the object with every prefixed property name (`mls:content`, `as:to`, full IRIs) renamed to its bare
 * term. A bare name already present wins over its prefixed spelling. An object with no prefixed name (what
 * peers send) is returned as it is: no copy, nothing allocated (a caught-up message spent a third of its
 * allocations here).
 */
export function normalizeTerms(object: JsonObject): JsonObject {
  let prefixed = false;
  for (const key in object) {
    if (stripTermPrefix(key) !== key) {
      prefixed = true;
      break;
    }
  }
  if (!prefixed) return object;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    const bare = stripTermPrefix(key);
    if (bare === key || !Object.hasOwn(object, bare)) out[bare] = value;
  }
  return out;
}

/** The one empty list `asList` answers for an absent value (an allocation per absent property otherwise). */
const NONE: readonly unknown[] = Object.freeze([]);

/** A JSON-LD value as a list: absent -> [] (one frozen list), single -> [value], array -> itself. */
export function asList(value: unknown): readonly unknown[] {
  if (value === undefined || value === null) return NONE;
  return Array.isArray(value) ? value : [value];
}

/** The id of a link: a string, or an object's `id` (or `href` for a Link). */
export function linkId(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (!isJsonObject(value)) return undefined;
  const normalized = normalizeTerms(value);
  if (typeof normalized.id === "string") return normalized.id;
  if (typeof normalized.href === "string") return normalized.href;
  return undefined;
}

/** The first link of a possibly multi-valued property. */
export function firstLinkId(value: unknown): string | undefined {
  const items = asList(value);
  for (let i = 0; i < items.length; i++) {
    const id = linkId(items[i]);
    if (id !== undefined) return id;
  }
  return undefined;
}

/** Every `type` of a node, prefixes stripped. */
export function typesOf(object: JsonObject): readonly string[] {
  const type = object.type;
  if (typeof type === "string") return [stripTermPrefix(type)];
  return asList(type)
    .filter((t): t is string => typeof t === "string")
    .map(stripTermPrefix);
}

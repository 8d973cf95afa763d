/** A JSON object as it travels on the wire: kept as received so MLS fields survive. */
export type JsonObject = { readonly [key: string]: unknown };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The values of a property that may be a single value or an array (AS2 allows both). */
export function values(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** The id of a value that is either a URL string or an object with an `id`. */
export function idOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (isJsonObject(value) && typeof value.id === "string") return value.id;
  return undefined;
}

/** Reads a property by its plain or `mls:`-prefixed name, as peers send both. */
export function prop(object: JsonObject, name: string): unknown {
  return object[name] ?? object[`mls:${name}`];
}

/** The type names of an object, with any `mls:` or `as:` prefix removed. */
export function typesOf(object: JsonObject): string[] {
  return values(object.type)
    .filter((t): t is string => typeof t === "string")
    .map((t) => t.replace(/^(mls|as):/, ""));
}

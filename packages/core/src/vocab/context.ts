// The JSON-LD contexts and well-known IRIs that MLS-over-ActivityPub documents use.

export const ACTIVITYSTREAMS_CONTEXT = "https://www.w3.org/ns/activitystreams";
export const MLS_CONTEXT = "https://purl.archive.org/socialweb/mls";

/** The namespaces whose compact (`mls:`, `as:`) or expanded prefixes are stripped from type and property names. */
export const TERM_PREFIXES: readonly string[] = [
  "mls:",
  `${MLS_CONTEXT}#`,
  "as:",
  `${ACTIVITYSTREAMS_CONTEXT}#`,
];

/** The Public collection, as written by the spec (`as:Public`), Emissary (`Public`) and AS2 (the full IRI). */
export const PUBLIC_COLLECTION = `${ACTIVITYSTREAMS_CONTEXT}#Public`;
const PUBLIC_SPELLINGS = new Set([PUBLIC_COLLECTION, "as:Public", "Public"]);

export function isPublicCollection(id: string): boolean {
  return PUBLIC_SPELLINGS.has(id);
}

/** `mls:KeyPackage`, `https://purl.archive.org/socialweb/mls#KeyPackage` and `KeyPackage` all name one term. */
export function stripTermPrefix(name: string): string {
  // Every prefix holds a colon: a bare term (most names) is answered without a loop.
  if (!name.includes(":")) return name;
  for (let i = 0; i < TERM_PREFIXES.length; i++) {
    const prefix = TERM_PREFIXES[i] as string;
    if (name.startsWith(prefix)) return name.slice(prefix.length);
  }
  return name;
}

// Addressing: the spec allows only actors as recipients of MLS messages, never Public or a collection.
import { err, ok, type Result } from "../result.js";
import { isPublicCollection } from "../vocab/context.js";
import { asList, isJsonObject, type JsonObject, linkId, normalizeTerms, typesOf } from "../vocab/json.js";
import { EnvelopeError } from "./errors.js";

export const ADDRESSING_PROPERTIES = ["to", "cc", "bto", "bcc", "audience"] as const;
const COLLECTION_TYPES = ["Collection", "OrderedCollection", "CollectionPage", "OrderedCollectionPage"];

export interface Addressing {
  /** Every addressed actor, deduplicated, in document order; Public is not listed. */
  readonly recipients: readonly string[];
  readonly isPublic: boolean;
}

/** Collects the audience of the given nodes (activity and object). `isCollection` names known collections. */
export function readAddressing(
  nodes: readonly (JsonObject | undefined)[],
  isCollection: (id: string) => boolean,
): Result<Addressing, EnvelopeError> {
  const recipients: string[] = [];
  let isPublic = false;
  // Index loops: this runs for every message, and array iterators allocate where V8 does not remove them.
  for (let n = 0; n < nodes.length; n++) {
    const node = nodes[n];
    if (node === undefined) continue;
    for (let p = 0; p < ADDRESSING_PROPERTIES.length; p++) {
      const property = ADDRESSING_PROPERTIES[p] as (typeof ADDRESSING_PROPERTIES)[number];
      const values = asList(node[property]);
      for (let v = 0; v < values.length; v++) {
        const value = values[v];
        const id = linkId(value);
        if (id === undefined) {
          return err(new EnvelopeError("invalid_recipients", "holds a value that is not a link", property));
        }
        if (isPublicCollection(id)) {
          isPublic = true;
          continue;
        }
        const embeddedCollection =
          isJsonObject(value) && typesOf(normalizeTerms(value)).some((t) => COLLECTION_TYPES.includes(t));
        if (embeddedCollection || isCollection(id)) {
          return err(new EnvelopeError("addressed_to_collection", `${id} is a collection`, property));
        }
        if (!recipients.includes(id)) recipients.push(id);
      }
    }
  }
  return ok({ recipients, isPublic });
}

// A cheap check that an MLS object's fields are of the plain shapes sottod and its peers send: strings where
// the vocabulary takes a string, links (an IRI or an object with an `id`) where it takes a link, and links or
// lists of links where it takes an audience. Every object it passes, the object's zod schema (vocab/schemas.ts)
// passes too; anything else (a ciphersuite, a bad value) is left to the schema, which also names what is
// wrong. A caught-up message spent about 4% of its CPU in the schema.
import { isJsonObject, type JsonObject } from "../vocab/json.js";

/** Fields the schemas take as any string. */
const STRINGS = ["content", "summary", "published"] as const;
/** Fields the schemas take as a non-empty string. */
const IRIS = ["id"] as const;
/** Fields the schemas take as a link. */
const LINKS = ["context", "conversation", "inReplyTo", "generator"] as const;
/** Fields the schemas take as an audience: a link or a list of links. */
const AUDIENCES = ["attributedTo", "to", "cc", "bto", "bcc", "audience", "instrument"] as const;

/** Every schema field this check knows (the rest: `type`, set by the reader, and `ciphersuite`). */
export const PLAIN_FIELDS: readonly string[] = [
  ...STRINGS,
  ...IRIS,
  ...LINKS,
  ...AUDIENCES,
  "mediaType",
  "encoding",
];

const isIri = (value: unknown) => typeof value === "string" && value.length > 0;
const isLink = (value: unknown) => isIri(value) || (isJsonObject(value) && isIri(value.id));

/** Whether the object's fields are plainly valid (see above); false says only "ask the schema". */
export function hasPlainFields(object: JsonObject): boolean {
  if (typeof object.content !== "string" || object.ciphersuite !== undefined) return false;
  for (const field of STRINGS)
    if (object[field] !== undefined && typeof object[field] !== "string") return false;
  for (const field of IRIS) if (object[field] !== undefined && !isIri(object[field])) return false;
  for (const field of LINKS) if (object[field] !== undefined && !isLink(object[field])) return false;
  for (const field of AUDIENCES) {
    const value = object[field];
    if (value === undefined || isLink(value)) continue;
    if (!Array.isArray(value) || !value.every(isLink)) return false;
  }
  if (object.encoding !== undefined && object.encoding !== "base64") return false;
  return object.mediaType === undefined || object.mediaType === "message/mls";
}

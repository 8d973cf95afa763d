// A conversation's shared title. The spec has no term for a group's name; Emissary shares its group's name with
// the group as `Update` of an `emissary:Context` object (`id` and `context` = the group id, `name` = the name),
// so that is the shape a peer already reads. Only `name` is read: Emissary's other fields on that object
// (`unread`, `stateId`, `tag`, `summary`) are one device's own state, not the conversation's.
import { MAX_ID_LENGTH, MAX_TITLE_LENGTH } from "../limits.js";
import { err, ok, type Result } from "../result.js";
import { type JsonObject, linkId, normalizeTerms, typesOf } from "../vocab/json.js";
import { checkLength, presentString } from "./contentObject.js";
import { AppDataError } from "./errors.js";
import type { ConversationContext } from "./model.js";
import { sanitizeTextField } from "./sanitize.js";

/** Emissary's type for a group's shared metadata. */
export const CONVERSATION_CONTEXT_TYPE = "emissary:Context";

/** Whether an object is a conversation context (by its type, as string or in an array). */
export function isConversationContext(node: JsonObject): boolean {
  return typesOf(node).includes(CONVERSATION_CONTEXT_TYPE);
}

/**
 * Reads a conversation context: the conversation it names (its `id`, else its `context`, verbatim; absent means
 * the conversation it arrived in) and its title (sanitized plain text; empty = no title, as Emissary sends it).
 */
export function readConversationContext(value: JsonObject): Result<ConversationContext, AppDataError> {
  const node = normalizeTerms(value);
  const id = presentString(linkId(node.id)) ?? presentString(linkId(node.context));
  const idLength = checkLength(id, "object.id", MAX_ID_LENGTH);
  if (!idLength.ok) return idLength;
  if (node.name !== undefined && node.name !== null && typeof node.name !== "string")
    return err(new AppDataError("invalid_property", "must be a string", "object.name"));
  const raw = typeof node.name === "string" ? node.name : "";
  const tooLong = checkLength(raw, "object.name", MAX_TITLE_LENGTH);
  if (!tooLong.ok) return tooLong;
  return ok({ ...(id === undefined ? {} : { id }), name: sanitizeTextField(raw).trim() });
}

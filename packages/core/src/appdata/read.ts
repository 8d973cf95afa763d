// Reading decrypted application data (spec §Activities). Never throws: bad data is an AppDataError, data
// outside the profile is returned as `unsupported` so it can be shown as such.

import { MAX_HTML_LENGTH, MAX_REACTION_LENGTH } from "../limits.js";
import { err, ok, type Result } from "../result.js";
import {
  asList,
  firstLinkId,
  isJsonObject,
  type JsonObject,
  linkId,
  normalizeTerms,
  typesOf,
} from "../vocab/json.js";
import {
  checkLength,
  contentTypeOf,
  presentString,
  readContentObject,
  readId,
  readLink,
} from "./contentObject.js";
import { isConversationContext, readConversationContext } from "./conversationContext.js";
import { AppDataError } from "./errors.js";
import {
  ACTIVITY_TYPES,
  type ActivityObject,
  type ActivityType,
  type ApplicationData,
  type UnsupportedData,
} from "./model.js";
import { sanitizeHtmlField, sanitizeTextField } from "./sanitize.js";

const EMBEDDING_ACTIVITIES: readonly ActivityType[] = ["Create", "Update"];
const OBJECTLESS_ACTIVITIES: readonly ActivityType[] = ["IntransitiveActivity"];

// One decoder for every message: fatal and not streaming, it keeps nothing between calls (one per call cost
// about as much as parsing a short message's JSON).
const utf8 = new TextDecoder("utf-8", { fatal: true });

function parse(input: unknown): Result<JsonObject, AppDataError> {
  let value = input;
  if (input instanceof Uint8Array) {
    try {
      value = utf8.decode(input);
    } catch {
      return err(new AppDataError("invalid_utf8", "application data is not UTF-8"));
    }
  }
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return err(new AppDataError("invalid_json", "application data is not JSON"));
    }
  }
  if (!isJsonObject(value))
    return err(new AppDataError("not_an_object", "application data must be a JSON object"));
  return ok(normalizeTerms(value));
}

function unsupported(node: JsonObject, reason: string): Result<UnsupportedData, AppDataError> {
  const id = typeof node.id === "string" ? node.id : undefined;
  return ok({
    type: "unsupported",
    originalType: typesOf(node),
    ...(id === undefined ? {} : { id }),
    reason,
    json: node,
  });
}

/** Reads application data: UTF-8 bytes (the decrypted MLS payload), JSON text, or parsed JSON. */
export function readApplicationData(input: unknown): Result<ApplicationData, AppDataError> {
  const parsed = parse(input);
  if (!parsed.ok) return parsed;
  const node = parsed.value;
  const types = typesOf(node);
  if (types.length === 0) return err(new AppDataError("invalid_property", "has no type", "type"));
  const type = ACTIVITY_TYPES.find((t) => types.includes(t));

  if (type === undefined) {
    // A bare content object (the spec's examples show them) is read as an implicit Create.
    if (contentTypeOf(node) === undefined)
      return unsupported(node, `type ${types.join(", ")} is outside the profile`);
    const object = readContentObject(node, "", { allowWebId: false, requireId: true });
    if (!object.ok) return object;
    return ok({ type: "Create", object: { form: "embedded", value: object.value } });
  }

  const id = readId(node.id, "id", false);
  if (!id.ok) return id;
  const content = readActivityContent(type, node.content, "content");
  if (!content.ok) return content;
  const actor = presentString(firstLinkId(node.actor));
  const published = presentString(node.published);

  let object: ActivityObject | undefined;
  if (!OBJECTLESS_ACTIVITIES.includes(type)) {
    const values = asList(node.object);
    const [value] = values;
    if (values.length !== 1 || value === undefined) {
      return err(new AppDataError("missing_object", `${type} needs exactly one object`, "object"));
    }
    const read = readActivityObject(type, value);
    if (read === "unsupported") return unsupported(node, `${type} of an object outside the profile`);
    if (!read.ok) return read;
    object = read.value;
  }

  return ok({
    type,
    ...(id.value === undefined ? {} : { id: id.value }),
    ...(actor === undefined ? {} : { actor }),
    ...(published === undefined || !Number.isFinite(Date.parse(published)) ? {} : { published }),
    ...(content.value === undefined ? {} : { content: content.value }),
    ...(object === undefined ? {} : { object }),
  });
}

/** An activity's `content`: a Like's emoji (plain text), else a comment (HTML); junk is absent. */
function readActivityContent(
  type: string,
  value: unknown,
  path: string,
): Result<string | undefined, AppDataError> {
  const raw = presentString(value);
  const reaction = type === "Like";
  const tooLarge = checkLength(raw, path, reaction ? MAX_REACTION_LENGTH : MAX_HTML_LENGTH);
  if (!tooLarge.ok) return tooLarge;
  if (raw === undefined) return ok(undefined);
  return ok(presentString(reaction ? sanitizeTextField(raw) : sanitizeHtmlField(raw)));
}

/**
 * The activity an Undo embeds, as far as it says: its id, or (Emissary) its actor, object and content. Sotto
 * matches by id when there is one, else by the other three.
 */
function readEmbeddedActivity(value: JsonObject): Result<ActivityObject, AppDataError> {
  const node = normalizeTerms(value);
  const type = typesOf(node)[0] ?? "Like";
  const id = readId(node.id, "object.id", false);
  if (!id.ok) return id;
  const object = readLink(node.object, "object.object");
  if (!object.ok) return object;
  if (id.value === undefined && object.value === undefined)
    return err(new AppDataError("missing_object", "names no activity", "object"));
  const actor = presentString(firstLinkId(node.actor));
  const content = readActivityContent(type, node.content, "object.content");
  if (!content.ok) return content;
  return ok({
    form: "activity",
    value: {
      type,
      ...(id.value === undefined ? {} : { id: id.value }),
      ...(actor === undefined ? {} : { actor }),
      ...(object.value === undefined ? {} : { object: object.value }),
      ...(content.value === undefined ? {} : { content: content.value }),
    },
  });
}

function readActivityObject(
  type: ActivityType,
  value: unknown,
): Result<ActivityObject, AppDataError> | "unsupported" {
  const allowWebId = type === "Announce";
  if (EMBEDDING_ACTIVITIES.includes(type)) {
    if (!isJsonObject(value))
      return err(new AppDataError("missing_object", `${type} must embed its object`, "object"));
    if (type === "Update" && isConversationContext(normalizeTerms(value))) {
      const context = readConversationContext(value);
      return context.ok ? ok({ form: "context", value: context.value }) : context;
    }
    if (contentTypeOf(normalizeTerms(value)) === undefined) return "unsupported";
    const object = readContentObject(value, "object.", { allowWebId, requireId: true });
    return object.ok ? ok({ form: "embedded", value: object.value }) : object;
  }
  if (type === "Announce" && isJsonObject(value) && contentTypeOf(normalizeTerms(value)) !== undefined) {
    const object = readContentObject(value, "object.", { allowWebId, requireId: false });
    return object.ok ? ok({ form: "embedded", value: object.value }) : object;
  }
  if (type === "Undo" && isJsonObject(value)) return readEmbeddedActivity(value);
  // Everything else points at an earlier object or activity, by id or by a partial embedding.
  const checked = readId(linkId(value), "object.id", allowWebId);
  if (!checked.ok) return checked;
  const id = checked.value;
  if (id === undefined) return err(new AppDataError("missing_object", "names no object id", "object"));
  const objectType = isJsonObject(value) ? typesOf(normalizeTerms(value))[0] : undefined;
  return ok({ form: "reference", id, ...(objectType === undefined ? {} : { type: objectType }) });
}

// Reading decrypted application data (spec §Activities). Never throws: bad data is an AppDataError, data
// outside the profile is returned as `unsupported` so it can be shown as such.
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
import { checkLength, contentTypeOf, readContentObject, readId } from "./contentObject.js";
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

function parse(input: unknown): Result<JsonObject, AppDataError> {
  let value = input;
  if (input instanceof Uint8Array) {
    try {
      value = new TextDecoder("utf-8", { fatal: true }).decode(input);
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
  if (node.content !== undefined && typeof node.content !== "string") {
    return err(new AppDataError("invalid_property", "must be a string", "content"));
  }
  const tooLarge = checkLength(node.content, "content");
  if (!tooLarge.ok) return tooLarge;
  const content =
    node.content === undefined
      ? undefined
      : type === "Like"
        ? sanitizeTextField(node.content)
        : sanitizeHtmlField(node.content);
  const actor = firstLinkId(node.actor);
  const published = typeof node.published === "string" ? node.published : undefined;

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
    ...(published === undefined ? {} : { published }),
    ...(content === undefined ? {} : { content }),
    ...(object === undefined ? {} : { object }),
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
    if (contentTypeOf(normalizeTerms(value)) === undefined) return "unsupported";
    const object = readContentObject(value, "object.", { allowWebId, requireId: true });
    return object.ok ? ok({ form: "embedded", value: object.value }) : object;
  }
  if (type === "Announce" && isJsonObject(value) && contentTypeOf(normalizeTerms(value)) !== undefined) {
    const object = readContentObject(value, "object.", { allowWebId, requireId: false });
    return object.ok ? ok({ form: "embedded", value: object.value }) : object;
  }
  // Everything else points at an earlier object or activity, by id or by a partial embedding.
  const id = linkId(value);
  if (id === undefined) return err(new AppDataError("missing_object", "names no object id", "object"));
  const checked = readId(id, "object.id", allowWebId);
  if (!checked.ok) return checked;
  const objectType = isJsonObject(value) ? typesOf(normalizeTerms(value))[0] : undefined;
  return ok({ form: "reference", id, ...(objectType === undefined ? {} : { type: objectType }) });
}

// The KeyPackage lifecycle activities (spec §Key storage): Create (Emissary's server also adds on Create), Add
// and Remove with the `keyPackages` collection as `target` (Bonfire embeds the object; Bonfire's Remove matches
// by `content`), Delete, and Emissary's Update in place.
import { err, ok, type Result } from "../result.js";
import { asList, isJsonObject, linkId, normalizeTerms, typesOf } from "../vocab/json.js";
import { parseJsonText } from "./document.js";
import { EnvelopeError } from "./errors.js";
import type { KeyPackageItem } from "./keyPackages.js";

export const KEY_PACKAGE_ACTIVITIES = ["Create", "Update", "Add", "Remove", "Delete"] as const;
export type KeyPackageActivityType = (typeof KEY_PACKAGE_ACTIVITIES)[number];

export interface KeyPackageActivity {
  readonly type: KeyPackageActivityType;
  readonly activityId?: string;
  readonly actor?: string;
  /** The KeyPackage: a reference, or an embedded object for readKeyPackageObject. */
  readonly object: KeyPackageItem;
  /** The collection an Add or Remove targets. */
  readonly target?: string;
}

export function readKeyPackageActivity(input: unknown): Result<KeyPackageActivity, EnvelopeError> {
  const parsed = parseJsonText(input);
  if (!parsed.ok) return parsed;
  if (!isJsonObject(parsed.value)) return err(new EnvelopeError("not_an_object", "expected a JSON object"));
  const activity = normalizeTerms(parsed.value);
  const types = typesOf(activity);
  const type = KEY_PACKAGE_ACTIVITIES.find((t) => types.includes(t));
  if (type === undefined) {
    return err(new EnvelopeError("unsupported_activity", "is not a KeyPackage lifecycle activity", "type"));
  }
  const objects = asList(activity.object);
  const [value] = objects;
  if (objects.length !== 1 || value === undefined) {
    return err(new EnvelopeError("invalid_property", "must hold exactly one object", "object"));
  }
  const object = readObject(value, type);
  if (!object.ok) return object;
  const target = linkId(activity.target);
  if ((type === "Add" || type === "Remove") && target === undefined) {
    return err(new EnvelopeError("invalid_property", `${type} needs the keyPackages collection`, "target"));
  }
  const activityId = linkId(activity.id);
  const actor = linkId(asList(activity.actor)[0]);
  return ok({
    type,
    ...(activityId === undefined ? {} : { activityId }),
    ...(actor === undefined ? {} : { actor }),
    object: object.value,
    ...(target === undefined ? {} : { target }),
  });
}

function readObject(value: unknown, type: KeyPackageActivityType): Result<KeyPackageItem, EnvelopeError> {
  if (typeof value === "string") {
    return type === "Create" || type === "Update"
      ? err(new EnvelopeError("object_not_embedded", `${type} must embed the KeyPackage`, "object"))
      : ok({ type: "reference", id: value });
  }
  if (!isJsonObject(value))
    return err(new EnvelopeError("not_an_object", "expected a link or object", "object"));
  const node = normalizeTerms(value);
  const id = linkId(node);
  if (typesOf(node).includes("KeyPackage") && node.content !== undefined) {
    return ok({ type: "embedded", ...(id === undefined ? {} : { id }), object: node });
  }
  if (type === "Create" || type === "Update") {
    return err(new EnvelopeError("not_key_package", "is not a KeyPackage object", "object.type"));
  }
  return id === undefined
    ? err(new EnvelopeError("invalid_property", "names no KeyPackage", "object"))
    : ok({ type: "reference", id });
}

// Locating the MLS object in an incoming document: a bare object (Bonfire posts those to the outbox) or the
// `object` of a Create (the spec), Update (Emissary's in-place KeyPackage refresh) or Add (Bonfire's KeyPackage
// publication).
import type { z } from "zod";
import { err, ok, type Result } from "../result.js";
import { asList, isJsonObject, type JsonObject, normalizeTerms, typesOf } from "../vocab/json.js";
import { isMlsObjectType, type MlsObjectType, mlsObjectSchemas } from "../vocab/schemas.js";
import { EnvelopeError } from "./errors.js";
import { hasPlainFields } from "./plainFields.js";

export const WRAPPING_ACTIVITIES = ["Create", "Update", "Add"] as const;

export interface LocatedObject {
  /** The wrapping activity, prefixes normalized; undefined for a bare object. */
  readonly activity: JsonObject | undefined;
  readonly activityType: string | undefined;
  /** The MLS object, prefixes normalized and validated by its zod schema. */
  readonly object: JsonObject;
  readonly objectType: MlsObjectType;
  /** Where the object sits, for error paths: "" for a bare object, "object." inside an activity. */
  readonly path: string;
}

export function parseJsonText(input: unknown): Result<unknown, EnvelopeError> {
  if (typeof input !== "string") return ok(input);
  try {
    return ok(JSON.parse(input));
  } catch {
    return err(new EnvelopeError("invalid_json", "the document is not valid JSON"));
  }
}

export function locateMlsObject(input: unknown): Result<LocatedObject, EnvelopeError> {
  const parsed = parseJsonText(input);
  if (!parsed.ok) return parsed;
  if (!isJsonObject(parsed.value)) return err(new EnvelopeError("not_an_object", "expected a JSON object"));
  const document = normalizeTerms(parsed.value);
  const types = typesOf(document);
  const ownType = types.find(isMlsObjectType);
  if (ownType !== undefined) return validate(undefined, undefined, document, ownType, "");

  const activityType = WRAPPING_ACTIVITIES.find((type) => types.includes(type));
  if (activityType === undefined) {
    return err(
      types.length === 0
        ? new EnvelopeError("not_mls_object", "has no type", "type")
        : new EnvelopeError("unsupported_activity", `${types.join(", ")} carries no MLS object`, "type"),
    );
  }
  const objects = asList(document.object);
  if (objects.length !== 1) {
    return err(new EnvelopeError("invalid_property", "must hold exactly one object", "object"));
  }
  const [object] = objects;
  if (typeof object === "string") {
    return err(new EnvelopeError("object_not_embedded", "is a reference, not an embedded object", "object"));
  }
  if (!isJsonObject(object))
    return err(new EnvelopeError("not_an_object", "expected a JSON object", "object"));
  const inner = normalizeTerms(object);
  const innerType = typesOf(inner).find(isMlsObjectType);
  if (innerType === undefined) {
    return err(new EnvelopeError("not_mls_object", "names no MLS object type", "object.type"));
  }
  return validate(document, activityType, inner, innerType, "object.");
}

function validate(
  activity: JsonObject | undefined,
  activityType: string | undefined,
  raw: JsonObject,
  objectType: MlsObjectType,
  prefix: string,
): Result<LocatedObject, EnvelopeError> {
  const object = { ...raw, type: typesOf(raw) };
  if (!hasPlainFields(object)) {
    const parsed = mlsObjectSchemas[objectType].safeParse(object);
    if (!parsed.success) return err(issueToError(parsed.error.issues, prefix));
  }
  return ok({ activity, activityType, object, objectType, path: prefix });
}

export function issueToError(issues: readonly z.core.$ZodIssue[], prefix: string): EnvelopeError {
  const issue = issues[0];
  const field = String(issue?.path[0] ?? "");
  const path = `${prefix}${issue?.path.map(String).join(".") ?? ""}`;
  const message = issue?.message ?? "is invalid";
  if (field === "encoding") return new EnvelopeError("unsupported_encoding", "only base64 is defined", path);
  if (field === "mediaType") return new EnvelopeError("unsupported_media_type", message, path);
  if (field === "ciphersuite") return new EnvelopeError("unknown_ciphersuite", message, path);
  return new EnvelopeError("invalid_property", message, path);
}

// Writing application data in the spec's form: AS2 JSON, inline base64 media with `mediaType`, no URLs.
import { encodeBase64 } from "../envelope/base64.js";
import { ACTIVITYSTREAMS_CONTEXT } from "../vocab/context.js";
import { CONVERSATION_CONTEXT_TYPE } from "./conversationContext.js";
import type { ActivityObject, ApplicationActivity, ContentObject } from "./model.js";

type Json = Record<string, unknown>;

/** The fields that have a value (one copy, no intermediate arrays: every stored message goes through it). */
function defined(entries: Record<string, unknown>): Json {
  const out: Json = {};
  for (const key in entries) if (entries[key] !== undefined) out[key] = entries[key];
  return out;
}

export function contentObjectToJson(object: ContentObject): Json {
  return defined({
    type: object.type,
    id: object.id,
    attributedTo: object.attributedTo,
    name: object.name,
    summary: object.summary,
    content: object.media === undefined ? object.content : encodeBase64(object.media.bytes),
    mediaType: object.media?.mediaType,
    encoding: object.media === undefined ? undefined : "base64",
    inReplyTo: object.inReplyTo,
    published: object.published,
    updated: object.updated,
    tag: object.tag?.map((tag) => defined({ type: tag.type, href: tag.href, name: tag.name })),
    attachment: object.attachment?.map(contentObjectToJson),
    width: object.width,
    height: object.height,
    blurhash: object.blurhash,
  });
}

function objectToJson(object: ActivityObject): unknown {
  if (object.form === "embedded") return contentObjectToJson(object.value);
  if (object.form === "activity") return defined({ ...object.value });
  // Emissary's shape, `context` too (its newer clients send it).
  if (object.form === "context")
    return defined({
      type: CONVERSATION_CONTEXT_TYPE,
      id: object.value.id,
      context: object.value.id,
      name: object.value.name,
    });
  return object.type === undefined ? object.id : { type: object.type, id: object.id };
}

/** The JSON of an activity, with the AS2 `@context`. */
export function applicationDataToJson(activity: ApplicationActivity): Json {
  return defined({
    "@context": ACTIVITYSTREAMS_CONTEXT,
    type: activity.type,
    id: activity.id,
    actor: activity.actor,
    published: activity.published,
    content: activity.content,
    object: activity.object === undefined ? undefined : objectToJson(activity.object),
  });
}

/** The UTF-8 bytes to encrypt as an MLS application message. */
export function writeApplicationData(activity: ApplicationActivity): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(applicationDataToJson(activity)));
}

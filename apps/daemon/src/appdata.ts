// Application data (spec §Application data): the AS2 activities carried inside MLS application messages.
// Outgoing ones are built here; incoming ones are read into the few intents the daemon stores.

const AS = "https://www.w3.org/ns/activitystreams";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export const newId = (): string => `urn:uuid:${crypto.randomUUID()}`;

/** An attachment carried inline (base64 `content`, as the spec says). */
export interface Attachment {
  readonly mediaType: string;
  readonly name?: string;
  readonly data: Uint8Array;
}

export interface NoteInput {
  readonly actor: string;
  readonly content: string;
  readonly mediaType: "text/plain" | "text/html";
  readonly inReplyTo?: string;
  readonly attachments?: readonly Attachment[];
  readonly published: string;
}

/** A new message: `Create{Note}`; the Note's id is the message id. */
export function createNote(input: NoteInput): { activity: JsonObject; note: JsonObject } {
  const note: JsonObject = {
    type: "Note",
    id: newId(),
    attributedTo: input.actor,
    content: input.content,
    mediaType: input.mediaType,
    published: input.published,
    ...(input.inReplyTo === undefined ? {} : { inReplyTo: input.inReplyTo }),
    ...(input.attachments === undefined || input.attachments.length === 0
      ? {}
      : {
          attachment: input.attachments.map((a) => ({
            type: attachmentType(a.mediaType),
            mediaType: a.mediaType,
            ...(a.name === undefined ? {} : { name: a.name }),
            encoding: "base64",
            content: Buffer.from(a.data).toString("base64"),
          })),
        }),
  };
  return { activity: wrap("Create", input.actor, input.published, note), note };
}

function attachmentType(mediaType: string): string {
  if (mediaType.startsWith("image/")) return "Image";
  if (mediaType.startsWith("audio/")) return "Audio";
  if (mediaType.startsWith("video/")) return "Video";
  return "Document";
}

/** An edit: `Update` with the whole new object (same id). */
export function updateNote(actor: string, note: JsonObject, content: string, published: string): JsonObject {
  return wrap("Update", actor, published, { ...note, content, updated: published });
}

export function deleteNote(actor: string, messageId: string, published: string): JsonObject {
  return wrap("Delete", actor, published, messageId);
}

/** A reaction: `Like` with the emoji as `content`. Its id is what an Undo names. */
export function like(actor: string, messageId: string, emoji: string, published: string): JsonObject {
  return { ...wrap("Like", actor, published, messageId), content: emoji };
}

export function unlike(
  actor: string,
  likeId: string,
  messageId: string,
  emoji: string,
  published: string,
): JsonObject {
  return wrap("Undo", actor, published, {
    type: "Like",
    id: likeId,
    actor,
    object: messageId,
    content: emoji,
  });
}

export function read(actor: string, messageId: string, published: string): JsonObject {
  return wrap("Read", actor, published, messageId);
}

function wrap(type: string, actor: string, published: string, object: Json): JsonObject {
  return { "@context": AS, type, id: newId(), actor, published, object };
}

export function encodeApplicationData(activity: JsonObject): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(activity));
}

/** What an incoming application activity asks for. */
export type Intent =
  | {
      readonly kind: "message";
      readonly id: string;
      readonly object: JsonObject;
      readonly published?: string;
    }
  | { readonly kind: "edit"; readonly id: string; readonly messageId: string; readonly object: JsonObject }
  | { readonly kind: "delete"; readonly id: string; readonly messageId: string }
  | { readonly kind: "react"; readonly id: string; readonly messageId: string; readonly emoji: string }
  | {
      readonly kind: "unreact";
      readonly id: string;
      readonly likeId?: string;
      readonly messageId?: string;
      readonly emoji?: string;
    }
  | {
      readonly kind: "receipt";
      readonly id: string;
      readonly messageId: string;
      readonly receipt: "read" | "delivered";
    }
  | { readonly kind: "ignored"; readonly reason: string };

const CONTENT_TYPES = new Set(["Note", "Article", "Image", "Audio", "Video", "Document", "Page", "Event"]);

const idOf = (value: unknown): string | undefined =>
  typeof value === "string"
    ? value
    : typeof (value as { id?: unknown } | null)?.id === "string"
      ? (value as { id: string }).id
      : undefined;

const typeOf = (value: unknown): string | undefined => {
  const type = (value as { type?: unknown } | null)?.type;
  const first = Array.isArray(type) ? type[0] : type;
  return typeof first === "string" ? first.replace(/^(as|mls):/, "") : undefined;
};

/**
 * Reads decrypted application data. Bare content objects count as a new message (some peers send them
 * unwrapped); `Acknowledge` is Emissary's receipt.
 */
export function readIntent(data: Uint8Array): Intent {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch {
    return { kind: "ignored", reason: "not_json" };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    return { kind: "ignored", reason: "not_an_object" };
  const activity = json as JsonObject;
  const type = typeOf(activity);
  const id = idOf(activity) ?? newId();
  if (type !== undefined && CONTENT_TYPES.has(type))
    return { kind: "message", id, object: activity, published: str(activity.published) };
  const object = activity.object;
  const target = idOf(object);
  switch (type) {
    case "Create": {
      if (typeof object !== "object" || object === null || Array.isArray(object))
        return { kind: "ignored", reason: "create_without_object" };
      const objectId = idOf(object) ?? id;
      return {
        kind: "message",
        id: objectId,
        object: object as JsonObject,
        published: str((object as JsonObject).published) ?? str(activity.published),
      };
    }
    case "Update":
      if (target === undefined || typeof object !== "object" || object === null || Array.isArray(object))
        return { kind: "ignored", reason: "update_without_object" };
      return { kind: "edit", id, messageId: target, object: object as JsonObject };
    case "Delete":
      return target === undefined
        ? { kind: "ignored", reason: "delete_without_object" }
        : { kind: "delete", id, messageId: target };
    case "Like":
    case "EmojiReact": {
      const emoji = str(activity.content) ?? str(activity.name) ?? "❤️";
      return target === undefined
        ? { kind: "ignored", reason: "like_without_object" }
        : { kind: "react", id, messageId: target, emoji };
    }
    case "Undo": {
      if (typeOf(object) !== "Like" && typeOf(object) !== "EmojiReact" && typeof object !== "string")
        return { kind: "ignored", reason: "undo_of_unknown" };
      const inner = typeof object === "object" && object !== null ? (object as JsonObject) : undefined;
      return {
        kind: "unreact",
        id,
        likeId: idOf(object),
        messageId: inner === undefined ? undefined : idOf(inner.object),
        emoji: inner === undefined ? undefined : (str(inner.content) ?? str(inner.name)),
      };
    }
    case "Read":
    case "View":
    case "Listen":
      return target === undefined
        ? { kind: "ignored", reason: "receipt_without_object" }
        : { kind: "receipt", id, messageId: target, receipt: "read" };
    case "Acknowledge":
      return target === undefined
        ? { kind: "ignored", reason: "receipt_without_object" }
        : { kind: "receipt", id, messageId: target, receipt: "delivered" };
    default:
      return { kind: "ignored", reason: `type_${type ?? "missing"}` };
  }
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

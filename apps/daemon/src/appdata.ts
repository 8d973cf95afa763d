// Application data (spec §Application data) as the daemon uses it: @sotto/core reads (and sanitizes) and
// writes the AS2 activities; here they are built for sending and turned into the intents the store applies.
import {
  type ApplicationActivity,
  type ContentObject,
  canonicalApplicationId,
  contentObjectToJson,
  newApplicationId,
  readApplicationData,
} from "@sotto/core";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** An attachment carried inline (base64 `content` with its `mediaType`, as the spec says). */
export interface Attachment {
  readonly mediaType: string;
  readonly name?: string;
  readonly data: Uint8Array;
}

export interface NoteInput {
  readonly actor: string;
  /** HTML (the spec's `content`); plain text is escaped by the caller first. */
  readonly html: string;
  readonly inReplyTo?: string;
  readonly attachments?: readonly Attachment[];
  readonly published: string;
}

function attachmentType(mediaType: string): ContentObject["type"] {
  if (mediaType.startsWith("image/")) return "Image";
  if (mediaType.startsWith("audio/")) return "Audio";
  if (mediaType.startsWith("video/")) return "Video";
  return "Document";
}

/** A new message, `Create{Note}`; the Note's id is the message id. */
export function createNote(input: NoteInput): { activity: ApplicationActivity; note: ContentObject } {
  const note: ContentObject = {
    type: "Note",
    id: newApplicationId(),
    // Emissary drops an activity whose actor is not its object's attributedTo.
    attributedTo: input.actor,
    content: input.html,
    published: input.published,
    ...(input.inReplyTo === undefined ? {} : { inReplyTo: input.inReplyTo }),
    ...(input.attachments === undefined || input.attachments.length === 0
      ? {}
      : {
          attachment: input.attachments.map((a) => ({
            type: attachmentType(a.mediaType),
            attributedTo: input.actor,
            ...(a.name === undefined ? {} : { name: a.name }),
            media: { mediaType: a.mediaType, bytes: a.data },
          })),
        }),
  };
  return {
    activity: activity("Create", input.actor, input.published, { form: "embedded", value: note }),
    note,
  };
}

/** An edit: `Update` with the whole new object (same id). */
export function updateNote(
  actor: string,
  note: ContentObject,
  html: string,
  published: string,
): ApplicationActivity {
  return activity("Update", actor, published, {
    form: "embedded",
    value: { ...note, attributedTo: actor, content: html, updated: published },
  });
}

/** `messageId` here and below is the id as it went on the wire (`wireIdOf`), byte for byte. */
export function deleteNote(actor: string, messageId: string, published: string): ApplicationActivity {
  return activity("Delete", actor, published, { form: "reference", id: messageId });
}

/** A reaction: `Like` with the emoji as `content`. Its id is what an Undo names. */
export function like(
  actor: string,
  messageId: string,
  emoji: string,
  published: string,
): ApplicationActivity {
  return { ...activity("Like", actor, published, { form: "reference", id: messageId }), content: emoji };
}

/**
 * Takes a reaction back: `Undo` embedding the whole Like (id, actor, object, content), so that peers that match
 * an Undo by the Like's id and peers that match it by the other three (Emissary) both apply it.
 */
export function unlike(
  actor: string,
  liked: { readonly id: string; readonly messageId: string; readonly emoji: string },
  published: string,
): ApplicationActivity {
  return activity("Undo", actor, published, {
    form: "activity",
    value: { type: "Like", id: liked.id, actor, object: liked.messageId, content: liked.emoji },
  });
}

/**
 * The conversation's title for its members: `Update` of its context (Emissary's `emissary:Context`, see
 * @sotto/core). An empty name says it has none.
 */
export function conversationTitle(
  actor: string,
  groupId: string,
  title: string | null,
  published: string,
): ApplicationActivity {
  return activity("Update", actor, published, { form: "context", value: { id: groupId, name: title ?? "" } });
}

export function read(actor: string, messageId: string, published: string): ApplicationActivity {
  return activity("Read", actor, published, { form: "reference", id: messageId });
}

function activity(
  type: ApplicationActivity["type"],
  actor: string,
  published: string,
  object: NonNullable<ApplicationActivity["object"]>,
): ApplicationActivity {
  return { type, id: newApplicationId(), actor, published, object };
}

/** The stored body of a message: its content object as JSON (sanitized on receipt, ids verbatim). */
export function noteBody(note: ContentObject): Json {
  const json = contentObjectToJson(note) as { [k: string]: Json };
  // The length of an overlong text as sent (core kept its start): the store's own note, never sent on.
  return note.contentLength === undefined ? json : { ...json, [CONTENT_LENGTH]: note.contentLength };
}

/** Where a stored body keeps `ContentObject.contentLength` (a name no AS2 object uses). */
export const CONTENT_LENGTH = "sotto:contentLength";

/**
 * The id of a stored message as its author sent it (peers must recognise their own ids byte for byte: spec
 * §Activities, "must match an object that was received"). The store keys messages by the canonical form.
 */
export function wireIdOf(message: { readonly id: string; readonly body: unknown }): string {
  const id = (message.body as { id?: unknown } | null)?.id;
  return typeof id === "string" && canonicalApplicationId(id) === message.id ? id : message.id;
}

/**
 * What an incoming application activity asks for. `id`, `messageId` and the like are canonical
 * (`canonicalApplicationId`: the keys the store compares); a message's `object` keeps its ids verbatim.
 */
export type Intent =
  | {
      readonly kind: "message";
      readonly id: string;
      readonly object: ContentObject;
      readonly published?: string;
    }
  | { readonly kind: "edit"; readonly id: string; readonly messageId: string; readonly object: ContentObject }
  | { readonly kind: "delete"; readonly id: string; readonly messageId: string }
  | { readonly kind: "react"; readonly id: string; readonly messageId: string; readonly emoji: string }
  | {
      readonly kind: "unreact";
      readonly id: string;
      /** The Like by its id, or (Emissary's Undo names no id) by its object and, when given, its emoji. */
      readonly like: { readonly id: string } | { readonly messageId: string; readonly emoji?: string };
    }
  | {
      readonly kind: "receipt";
      readonly id: string;
      readonly messageId: string;
      readonly receipt: "read" | "delivered";
    }
  | {
      readonly kind: "title";
      readonly id: string;
      /** The conversation it names, verbatim (absent: the one it arrived in); null clears the title. */
      readonly conversationId?: string;
      readonly title: string | null;
    }
  | { readonly kind: "ignored"; readonly reason: string };

/**
 * Reads decrypted application data from `sender` (the MLS sender's actor) into an intent; anything outside the
 * profile is `ignored`, with why. So is data whose claimed `actor` or `attributedTo` is someone else: Sotto
 * trusts the MLS sender, and a claim that contradicts it is forged or broken.
 */
export function readIntent(data: Uint8Array, sender: string): Intent {
  const read = readApplicationData(data);
  if (!read.ok) return { kind: "ignored", reason: read.error.code };
  const app = read.value;
  if (app.type === "unsupported") return { kind: "ignored", reason: "unsupported" };
  const claimed = [
    app.actor,
    app.type === "Create" || app.type === "Update"
      ? app.object?.form === "embedded"
        ? app.object.value.attributedTo
        : undefined
      : undefined,
    app.object?.form === "activity" ? app.object.value.actor : undefined,
  ];
  if (claimed.some((actor) => actor !== undefined && actor !== sender))
    return { kind: "ignored", reason: "actor_mismatch" };
  return intentOf(app);
}

/** What an application activity asks for: one received, or one this device sends (see `effectOf`). */
export function intentOf(app: ApplicationActivity): Intent {
  const id = canonicalApplicationId(app.id ?? newApplicationId());
  const object = app.object;
  if (object?.form === "context") {
    return {
      kind: "title",
      id,
      ...(object.value.id === undefined ? {} : { conversationId: object.value.id }),
      title: object.value.name === "" ? null : object.value.name,
    };
  }
  const targetId =
    object === undefined
      ? undefined
      : object.form === "embedded"
        ? (object.value.id ?? id)
        : object.form === "reference"
          ? object.id
          : object.value.id;
  const target = targetId === undefined ? undefined : canonicalApplicationId(targetId);
  switch (app.type) {
    case "Create":
      if (object?.form !== "embedded" || target === undefined)
        return { kind: "ignored", reason: "create_without_object" };
      return {
        kind: "message",
        id: target,
        object: object.value,
        published: object.value.published ?? app.published,
      };
    case "Update":
      if (object?.form !== "embedded" || target === undefined)
        return { kind: "ignored", reason: "update_without_object" };
      return { kind: "edit", id, messageId: target, object: object.value };
    case "Delete":
      return target === undefined
        ? { kind: "ignored", reason: "delete_without_object" }
        : { kind: "delete", id, messageId: target };
    case "Like":
      return target === undefined
        ? { kind: "ignored", reason: "like_without_object" }
        : { kind: "react", id, messageId: target, emoji: app.content ?? "❤️" };
    case "Undo": {
      if (target !== undefined) return { kind: "unreact", id, like: { id: target } };
      const liked = object?.form === "activity" ? object.value : undefined;
      if (liked?.object === undefined || liked.type !== "Like")
        return { kind: "ignored", reason: "undo_without_object" };
      return {
        kind: "unreact",
        id,
        like: {
          messageId: canonicalApplicationId(liked.object),
          ...(liked.content === undefined ? {} : { emoji: liked.content }),
        },
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
      return { kind: "ignored", reason: `type_${app.type}` };
  }
}

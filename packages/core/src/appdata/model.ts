// The application data Sotto reads and writes: the AS2 profile of spec §Application data, plus Emissary's
// `Acknowledge` receipts.
import type { JsonObject } from "../vocab/json.js";

/** Content objects of the spec; `Document` appears only as an Emissary attachment. */
export const CONTENT_TYPES = ["Note", "Article", "Image", "Audio", "Video"] as const;
export const ATTACHMENT_TYPES = [...CONTENT_TYPES, "Document"] as const;
export type ContentType = (typeof ATTACHMENT_TYPES)[number];

export const ACTIVITY_TYPES = [
  "Create",
  "Update",
  "Delete",
  "Like",
  "Announce",
  "Undo",
  "Read",
  "Listen",
  "View",
  "IntransitiveActivity",
  "Acknowledge",
] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

/** Only the author of the original may send these (spec §Activities). */
export const AUTHOR_ONLY_ACTIVITIES: readonly ActivityType[] = ["Update", "Delete", "Undo"];

export interface Tag {
  /** `Mention` or `Hashtag` (others are kept with their own type). */
  readonly type: string;
  readonly href?: string;
  /** Plain text, sanitized. */
  readonly name?: string;
}

export interface Media {
  readonly mediaType?: string;
  readonly bytes: Uint8Array;
}

export interface ContentObject {
  readonly type: ContentType;
  readonly id?: string;
  /** Who made it, as claimed (Emissary requires it to equal the activity's `actor`); the MLS sender counts. */
  readonly attributedTo?: string;
  /** Plain text, sanitized. */
  readonly name?: string;
  /** Sanitized HTML. */
  readonly summary?: string;
  /** Sanitized HTML, for Note and Article. */
  readonly content?: string;
  /** The inline binary of Image/Audio/Video/Document: base64 `content`, or Emissary's `data:` URI `url`. */
  readonly media?: Media;
  readonly inReplyTo?: string;
  readonly published?: string;
  readonly updated?: string;
  readonly tag?: readonly Tag[];
  readonly attachment?: readonly ContentObject[];
  /** Attachments of types outside the profile (e.g. Link): left out, counted so the UI can say so. */
  readonly unsupportedAttachments?: number;
  /**
   * Set when a Note's or Article's `content` as received was longer than MAX_HTML_LENGTH: its length then, in
   * characters; `content` holds its start (cut to that limit, then sanitized). Never written to the wire.
   */
  readonly contentLength?: number;
  readonly width?: number;
  readonly height?: number;
  readonly blurhash?: string;
}

/**
 * An earlier activity embedded in an Undo: Emissary names its Like by (actor, object, content) without the
 * Like's id; Sotto sends all four.
 */
export interface EmbeddedActivity {
  readonly type: string;
  readonly id?: string;
  readonly actor?: string;
  /** The id of the activity's object, verbatim. */
  readonly object?: string;
  /** Plain text, sanitized (a Like's emoji). */
  readonly content?: string;
}

/** A conversation's shared metadata (Emissary's `emissary:Context`): the conversation it names and its title. */
export interface ConversationContext {
  /** The group id it names, verbatim; absent: the conversation it arrived in. */
  readonly id?: string;
  /** Plain text, sanitized; empty when the conversation has no title. */
  readonly name: string;
}

/**
 * The object of an activity: embedded content (Create, Update, Announce), a reference by id, (in an Undo) an
 * embedded activity, or (in an Update) the conversation's context.
 */
export type ActivityObject =
  | { readonly form: "embedded"; readonly value: ContentObject }
  | { readonly form: "reference"; readonly id: string; readonly type?: string }
  | { readonly form: "activity"; readonly value: EmbeddedActivity }
  | { readonly form: "context"; readonly value: ConversationContext };

export interface ApplicationActivity {
  readonly type: ActivityType;
  /** Absent when a bare content object was sent (it is read as an implicit Create). */
  readonly id?: string;
  /** What the sender claims; the MLS sender's identity is what counts. */
  readonly actor?: string;
  readonly published?: string;
  /** Like: the reaction emoji (plain text). Announce: a comment (HTML). Both sanitized. */
  readonly content?: string;
  readonly object?: ActivityObject;
}

/** A type outside the profile: kept, and shown as unsupported rather than dropped. */
export interface UnsupportedData {
  readonly type: "unsupported";
  readonly originalType: readonly string[];
  readonly id?: string;
  readonly reason: string;
  readonly json: JsonObject;
}

export type ApplicationData = ApplicationActivity | UnsupportedData;

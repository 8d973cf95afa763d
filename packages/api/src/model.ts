// The domain objects methods return. Every schema carries an `id` in its metadata: that id names it in the
// generated JSON Schema / OpenRPC document, so renaming one is an API change.
import {
  MAX_ID_LENGTH,
  MAX_INLINE_MEDIA_BASE64,
  MAX_MEDIA_TYPE_LENGTH,
  MAX_NAME_LENGTH,
} from "@sotto/shared/limits";
import { z } from "zod";

export const ActorId = z.url().meta({ id: "ActorId", description: "An ActivityPub actor id (a URL)." });

export const ActorRef = z.string().min(1).max(2048).meta({
  id: "ActorRef",
  description:
    "Who to talk to: an actor id URL, or a handle `@user@host` / `user@host` (resolved by WebFinger).",
});

export const ConversationId = z.string().min(1).max(512).meta({
  id: "ConversationId",
  description: "A conversation is one MLS group; its id is the group id, `urn:uuid:<uuid>`.",
});

export const MessageId = z.string().min(1).max(MAX_ID_LENGTH).meta({
  id: "MessageId",
  description: "The id of the message's application-data activity (`urn:uuid:<uuid>`).",
});

export const Timestamp = z.iso
  .datetime({ offset: true })
  .meta({ id: "Timestamp", description: "An RFC 3339 date-time." });

export const Seq = z.int().min(0).meta({
  id: "Seq",
  description: "Position in the daemon's event log: monotonic, never reused. 0 = before the first event.",
});

export const OutboxState = z.enum(["queued", "sent", "failed"]).meta({
  id: "OutboxState",
  description: "Where an outgoing message is: queued -> sent, or failed after its retries.",
});

export const SyncState = z
  .object({
    state: z
      .enum(["idle", "syncing", "offline", "error"])
      .describe(
        "`syncing` while a backlog is read and applied; `idle` (in sync) once everything read is applied and new activities arrive live.",
      ),
    lastSyncAt: Timestamp.nullable().describe("When the last sync with the home server completed."),
    error: z.string().nullable().describe("Why the last sync failed, when `state` is `error` or `offline`."),
  })
  .meta({ id: "SyncState", description: "How the daemon's sync with its home server is doing." });

export const Authentication = z.enum(["authenticated", "uncheckable", "contradicted"]).meta({
  id: "Authentication",
  description:
    "Whether a device's key is one its actor publishes (docs/security.md): `authenticated`; `uncheckable` (the actor lists no key to check against, as some peers do: say so before sending); `contradicted` (the actor publishes other keys: someone else holds a device in that actor's name).",
});

export const SecurityAlert = z
  .object({
    kind: z
      .enum(["welcome_refused", "readded", "member_uncheckable", "member_contradicted", "device_unendorsed"])
      .describe(
        "`welcome_refused`: an invitation that would have replaced this conversation (a takeover, or a member the actor does not publish) was refused, the conversation is unchanged; `readded`: a member of the last state this device knew added it back after it had left or been removed; `member_uncheckable` / `member_contradicted`: a device of `actorId` joined or changed its key and could not be authenticated / contradicts the keys its actor publishes; `device_unendorsed`: a contact this account verified shows a new device that none of their verified devices endorsed (their server may have added it): compare fingerprints again before trusting it.",
      ),
    actorId: ActorId.nullable().describe(
      "Who it is about: the sender of the refused invitation, the member.",
    ),
    at: Timestamp,
  })
  .meta({
    id: "SecurityAlert",
    description: "Something about a conversation's members the user should see.",
  });

export const Member = z
  .object({
    actorId: ActorId,
    handle: z.string().nullable(),
    displayName: z.string().nullable(),
  })
  .meta({ id: "Member", description: "A member of a conversation." });

export const Conversation = z
  .object({
    id: ConversationId,
    title: z
      .string()
      .nullable()
      .describe(
        "The conversation's name, shared with its members (any member may change it: `conversations.setTitle`); null when it has none.",
      ),
    members: z.array(Member).describe("Every member, this account included."),
    createdAt: Timestamp,
    lastActivityAt: Timestamp,
    lastMessageId: MessageId.nullable(),
    unread: z.int().min(0).describe("Messages from others after the read marker."),
    epoch: z.int().min(0).describe("The MLS epoch the group is in."),
    left: z.boolean().describe("True once this account left or was removed; history stays readable."),
    keyChanged: z
      .boolean()
      .optional()
      .describe(
        "True when the device keys of a member this account had verified changed (`contact.key_changed` names them); cleared when they are verified again (`contacts.verify`). Absent when the daemon does not say.",
      ),
    authentication: Authentication.optional().describe(
      "The least authenticated device among the other members' (`authenticated` when every one is). Warn before sending when it is not. Absent when the daemon does not say.",
    ),
    alerts: z
      .array(SecurityAlert)
      .optional()
      .describe("Security alerts about this conversation, oldest first (the latest 20)."),
    outOfStep: z
      .object({
        actor: ActorId.describe("The member whose commit could not be applied."),
        since: Timestamp,
        reason: z.string().describe("Why the commit was refused, for people."),
      })
      .nullable()
      .optional()
      .describe(
        "Set when a member's commit could not be applied (e.g. a Remove without UpdatePath from a ts-mls 2 release candidate): that member's later messages wait, unreadable, until this device is re-added or a commit applies. Null when in step; absent when the daemon does not say.",
      ),
  })
  .meta({ id: "Conversation", description: "A conversation: one end-to-end encrypted MLS group." });

export const Attachment = z
  .strictObject({
    mediaType: z
      .string()
      .min(1)
      .max(MAX_MEDIA_TYPE_LENGTH)
      .describe("The attachment's media type, e.g. image/png."),
    name: z.string().min(1).max(MAX_NAME_LENGTH).optional().describe("A file name to show."),
    data: z
      .base64()
      .max(MAX_INLINE_MEDIA_BASE64)
      .describe(
        "The bytes, base64. A message's attachments hold at most 512 KiB in all (more: invalid_params).",
      ),
  })
  .meta({
    id: "Attachment",
    description: "A file sent inline in a message (the spec's attachment with base64 `content`).",
  });

export const Reaction = z
  .object({
    emoji: z.string().min(1),
    actors: z.array(ActorId),
  })
  .meta({
    id: "Reaction",
    description: "One emoji and who reacted with it (a `Like` with the emoji as content).",
  });

export const Message = z
  .object({
    id: MessageId,
    conversationId: ConversationId,
    author: ActorId,
    type: z.string().describe("The ActivityStreams object type: Note, Article, Image, Audio, Video."),
    content: z.string().describe("The text; sanitized when `mediaType` is text/html."),
    truncatedFrom: z
      .int()
      .min(0)
      .optional()
      .describe(
        "Set when the sender's text was longer than a daemon keeps (100,000 characters of HTML): its length as sent. `content` then holds its start; show that it was cut.",
      ),
    mediaType: z.string().describe("text/plain or text/html."),
    inReplyTo: MessageId.nullable(),
    published: Timestamp,
    editedAt: Timestamp.nullable(),
    deleted: z.boolean().describe("True once the author deleted it; `content` is then empty."),
    attachments: z
      .array(Attachment)
      .optional()
      .describe("Files sent inline with the message; absent when there are none or the daemon does not say."),
    reactions: z.array(Reaction),
    readBy: z.array(ActorId).describe("Members who sent a read receipt for this message or a later one."),
    outbox: OutboxState.nullable().describe("For messages this account sent: their delivery state."),
  })
  .meta({
    id: "Message",
    description: "A message in a conversation, as decrypted and stored by the daemon.",
  });

export const Device = z
  .object({
    id: z.string().min(1).describe("Stable id of the device (MLS leaf signature key fingerprint)."),
    name: z.string().nullable().describe("The `generator` name the device publishes."),
    fingerprint: z.string().describe("The device's key fingerprint, for comparing out of band."),
    current: z.boolean().describe("True for the device this daemon is."),
    firstSeen: Timestamp,
    verified: z.boolean(),
    authentication: Authentication.optional().describe(
      "Whether its key is one the actor publishes, as last checked. Absent when the daemon does not say.",
    ),
    endorsedBy: z
      .string()
      .nullable()
      .optional()
      .describe(
        "The fingerprint of the device of the same actor that endorsed this one (it linked it): a verified contact's endorsed device stays verified. Null when none did; absent when the daemon does not say.",
      ),
    link: z
      .object({
        state: z
          .enum(["requested", "linked", "removed"])
          .describe(
            "`requested`: waiting for approval on the existing device; `linked`: approved (it is added to every conversation); `removed`: taken out of every conversation.",
          ),
        comparison: z
          .string()
          .describe("Both devices show this string while linking: approve only when they match."),
      })
      .nullable()
      .optional()
      .describe("For this account's own devices that were linked through `devices.link`; null otherwise."),
  })
  .meta({ id: "Device", description: "One MLS device (a leaf) of an actor." });

export const Contact = z
  .object({
    actorId: ActorId,
    handle: z.string().nullable(),
    displayName: z.string().nullable(),
    devices: z.array(Device),
    verified: z.boolean().describe("True when every current device of the contact is verified."),
    keyChangedAt: Timestamp.nullable().describe("When a device key last appeared or changed."),
    authentication: Authentication.optional().describe(
      "The least authenticated of the contact's devices. Absent when the daemon does not say.",
    ),
  })
  .meta({ id: "Contact", description: "Someone this account shares conversations with, and their devices." });

export const Account = z
  .object({
    actorId: ActorId,
    handle: z.string(),
    displayName: z.string().nullable(),
    server: z.url().describe("The home server's origin."),
    device: Device,
  })
  .meta({ id: "Account", description: "The account this daemon runs, and its own device." });

export const Status = z
  .object({
    version: z.string(),
    ready: z.boolean().describe("False until an account is set up and the store is open."),
    account: z.object({ actorId: ActorId, handle: z.string() }).nullable(),
    sync: SyncState,
    outbox: z.object({ queued: z.int().min(0), failed: z.int().min(0) }),
    events: z
      .object({ head: Seq, oldest: Seq })
      .describe(
        "`head` is the latest event's seq; `events.subscribe({ since })` replays without a gap for any `since >= oldest`.",
      ),
  })
  .meta({ id: "Status", description: "A summary of the daemon's state." });

export type ActorId = z.infer<typeof ActorId>;
export type ActorRef = z.infer<typeof ActorRef>;
export type ConversationId = z.infer<typeof ConversationId>;
export type MessageId = z.infer<typeof MessageId>;
export type Timestamp = z.infer<typeof Timestamp>;
export type Seq = z.infer<typeof Seq>;
export type OutboxState = z.infer<typeof OutboxState>;
export type SyncState = z.infer<typeof SyncState>;
export type Member = z.infer<typeof Member>;
export type Conversation = z.infer<typeof Conversation>;
export type Attachment = z.infer<typeof Attachment>;
export type Reaction = z.infer<typeof Reaction>;
export type Message = z.infer<typeof Message>;
export type Device = z.infer<typeof Device>;
export type Contact = z.infer<typeof Contact>;
export type Account = z.infer<typeof Account>;
export type Status = z.infer<typeof Status>;

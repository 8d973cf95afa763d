// Every method of the API: its params (by name, a JSON object; unknown keys are refused so typos surface),
// its result, and the domain errors it may answer with besides the generic ones.
import { MAX_ATTACHMENTS, MAX_REACTION_LENGTH, MAX_TITLE_LENGTH } from "@sotto/shared/limits";
import { z } from "zod";
import type { ApiErrorCode } from "./errors.js";
import {
  Account,
  ActorRef,
  Attachment,
  Contact,
  Conversation,
  ConversationId,
  Device,
  Message,
  MessageId,
  Seq,
  Status,
  SyncState,
  Timestamp,
} from "./model.js";

export interface MethodSpec<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly summary: string;
  readonly params: P;
  readonly result: R;
  readonly errors: readonly ApiErrorCode[];
}

function method<P extends z.ZodType, R extends z.ZodType>(
  name: string,
  summary: string,
  params: P,
  result: R,
  errors: readonly ApiErrorCode[] = [],
): MethodSpec<P, R> {
  const id = name
    .split(".")
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join("");
  return {
    summary,
    params: params.meta({ id: `${id}Params` }) as P,
    result: result.meta({ id: `${id}Result` }) as R,
    errors,
  };
}

const none = () => z.strictObject({});
const Ok = () => z.object({ ok: z.literal(true) });
const inConversation = { conversationId: ConversationId };
const onMessage = { conversationId: ConversationId, messageId: MessageId };
const members = z.array(ActorRef).min(1).max(1000);
const emoji = z.string().min(1).max(MAX_REACTION_LENGTH).describe("One emoji (or a short reaction text).");
const title = z
  .string()
  .max(MAX_TITLE_LENGTH)
  .describe("Plain text; every member sees it (an empty one is none).");
const TEXT_LIMIT = "text must be 1-65,536 characters";
const text = z.string().min(1, TEXT_LIMIT).max(65536, TEXT_LIMIT).describe("Plain text.");

export const methods = {
  auth: method(
    "auth",
    "Authenticate as the first frame (for clients that cannot set headers, such as browsers): with the token (or a session credential), or with a one-time login code from `auth.code`, which answers a `session` credential to use as the token from then on.",
    z.union([
      z.strictObject({ token: z.string().min(1).max(512) }),
      z.strictObject({ code: z.string().min(1).max(128) }),
    ]),
    z.object({
      ok: z.literal(true),
      session: z
        .string()
        .optional()
        .describe(
          "After a login code: the session credential, valid in place of the token (as a browser tab keeps it).",
        ),
    }),
    ["unauthorized"],
  ),
  "auth.code": method(
    "auth.code",
    "A one-time login code for a browser page: it works once, within `expiresAt`, as `auth({ code })`. `url` is the daemon's web UI with the code in its fragment (null when the web UI is off).",
    none(),
    z.object({ code: z.string(), expiresAt: Timestamp, url: z.string().nullable() }),
  ),
  status: method("status", "A summary of the daemon's state.", none(), Status),
  "account.get": method("account.get", "The account this daemon runs.", none(), Account, ["not_ready"]),
  "conversations.list": method(
    "conversations.list",
    "Conversations, most recent activity first.",
    z.strictObject({
      includeLeft: z.boolean().default(false).describe("Also list conversations this account left."),
    }),
    z.object({ conversations: z.array(Conversation) }),
    ["not_ready"],
  ),
  "conversations.get": method(
    "conversations.get",
    "One conversation.",
    z.strictObject(inConversation),
    Conversation,
    ["conversation_not_found"],
  ),
  "conversations.create": method(
    "conversations.create",
    "Start a conversation (a new MLS group) with these actors; their devices are added from their KeyPackages.",
    z.strictObject({ members, title: title.optional() }),
    Conversation,
    ["actor_not_found", "no_key_package", "server_unavailable", "not_ready"],
  ),
  "conversations.addMembers": method(
    "conversations.addMembers",
    "Add actors (all their devices) to a conversation.",
    z.strictObject({ ...inConversation, members }),
    Conversation,
    [
      "conversation_not_found",
      "not_a_member",
      "actor_not_found",
      "already_member",
      "no_key_package",
      "server_unavailable",
    ],
  ),
  "conversations.removeMembers": method(
    "conversations.removeMembers",
    "Remove actors (all their devices) from a conversation.",
    z.strictObject({ ...inConversation, members }),
    Conversation,
    ["conversation_not_found", "not_a_member", "actor_not_found", "server_unavailable"],
  ),
  "conversations.leave": method(
    "conversations.leave",
    "Leave a conversation; its history stays readable.",
    z.strictObject(inConversation),
    Ok(),
    ["conversation_not_found", "not_a_member", "server_unavailable"],
  ),
  "conversations.setTitle": method(
    "conversations.setTitle",
    "Name a conversation for every member (null or empty: no name); members added later are told it too.",
    z.strictObject({ ...inConversation, title: title.nullable() }),
    Conversation,
    ["conversation_not_found", "not_a_member"],
  ),
  "conversations.markRead": method(
    "conversations.markRead",
    "Move the read marker to a message (default: the latest) and send a read receipt.",
    z.strictObject({ ...inConversation, messageId: MessageId.optional() }),
    Ok(),
    ["conversation_not_found", "message_not_found"],
  ),
  "messages.list": method(
    "messages.list",
    "A page of a conversation's messages, oldest first within the page. Pass `before` from the previous page to read further back.",
    z.strictObject({
      ...inConversation,
      before: z.string().optional().describe("The `before` cursor of the previous page."),
      limit: z.int().min(1).max(500).default(50),
    }),
    z.object({
      messages: z.array(Message),
      before: z
        .string()
        .nullable()
        .describe("Cursor for the next older page; null when this page is the oldest."),
    }),
    ["conversation_not_found"],
  ),
  "messages.get": method(
    "messages.get",
    "One message (after a message.* event says it changed).",
    z.strictObject(onMessage),
    Message,
    ["conversation_not_found", "message_not_found"],
  ),
  "messages.send": method(
    "messages.send",
    "Send a message, with optional inline attachments. It is stored and queued at once (`outbox: queued`); `outbox.state` events follow.",
    z
      .strictObject({
        ...inConversation,
        text: z
          .string()
          .max(65536, TEXT_LIMIT)
          .describe("Plain text (or HTML, see `mediaType`); empty only when there are attachments."),
        inReplyTo: MessageId.optional(),
        mediaType: z
          .enum(["text/plain", "text/html"])
          .optional()
          .describe("How `text` is written: text/plain (default, escaped) or text/html (sanitized)."),
        attachments: z.array(Attachment).max(MAX_ATTACHMENTS).optional(),
      })
      .refine((p) => p.text.length > 0 || (p.attachments?.length ?? 0) > 0, {
        message: `${TEXT_LIMIT} (it may be empty only with attachments)`,
        path: ["text"],
      }),
    Message,
    ["conversation_not_found", "not_a_member", "message_not_found"],
  ),
  "messages.edit": method(
    "messages.edit",
    "Replace the text of one of this account's messages (an Update).",
    z.strictObject({ ...onMessage, text }),
    Message,
    ["conversation_not_found", "message_not_found", "not_a_member", "not_author"],
  ),
  "messages.delete": method(
    "messages.delete",
    "Delete one of this account's messages for everyone (a Delete).",
    z.strictObject(onMessage),
    Ok(),
    ["conversation_not_found", "message_not_found", "not_a_member", "not_author"],
  ),
  "messages.react": method(
    "messages.react",
    "React to a message with an emoji (a Like).",
    z.strictObject({ ...onMessage, emoji }),
    Ok(),
    ["conversation_not_found", "message_not_found", "not_a_member"],
  ),
  "messages.unreact": method(
    "messages.unreact",
    "Take back a reaction (an Undo of the Like).",
    z.strictObject({ ...onMessage, emoji }),
    Ok(),
    ["conversation_not_found", "message_not_found", "not_a_member"],
  ),
  "contacts.list": method(
    "contacts.list",
    "Everyone this account shares a conversation with.",
    none(),
    z.object({ contacts: z.array(Contact) }),
  ),
  "contacts.get": method(
    "contacts.get",
    "One contact and their devices.",
    z.strictObject({ actor: ActorRef }),
    Contact,
    ["contact_not_found"],
  ),
  "contacts.verify": method(
    "contacts.verify",
    "Mark a contact's current devices as verified, after comparing fingerprints out of band. When `fingerprints` is given, every one must match a current device.",
    z.strictObject({ actor: ActorRef, fingerprints: z.array(z.string().min(1)).optional() }),
    Contact,
    ["contact_not_found", "fingerprint_mismatch"],
  ),
  "contacts.unverify": method(
    "contacts.unverify",
    "Clear a contact's verification.",
    z.strictObject({ actor: ActorRef }),
    Contact,
    ["contact_not_found"],
  ),
  "devices.list": method(
    "devices.list",
    "This account's devices (MLS leaves): this daemon and any other.",
    none(),
    z.object({ devices: z.array(Device) }),
    ["not_ready"],
  ),
  "devices.link": method(
    "devices.link",
    "Start linking a new device to this account: a one-time code (valid for `expiresAt`) to give to the new device (`sottod init --link CODE` there, or `devices.join`), and this device's fingerprint. When the new device asks, `devices.list` shows it as `requested` with a comparison string; approve it with `devices.approve` once both devices show the same string.",
    none(),
    z.object({ code: z.string(), expiresAt: Timestamp, fingerprint: z.string() }),
    ["not_ready"],
  ),
  "devices.join": method(
    "devices.join",
    "On a new daemon of an account that already has a device: ask to be linked with the code that `devices.link` gave there. Answers the comparison string to check against the existing device before it approves.",
    z.strictObject({ code: z.string().min(1).max(64) }),
    z.object({ comparison: z.string(), fingerprint: z.string() }),
    ["link_refused", "server_unavailable", "not_ready"],
  ),
  "devices.approve": method(
    "devices.approve",
    "Approve a device that asked to be linked (its comparison string matched): its KeyPackages are published endorsed by this device, it is added to every active conversation (one commit each) and gets their recent history (the last 30 days, at most 1,000 messages per conversation) end to end encrypted.",
    z.strictObject({ id: z.string().min(1).max(128) }),
    z.object({ device: Device, conversations: z.int().min(0).describe("Conversations it was added to.") }),
    ["device_not_found", "server_unavailable"],
  ),
  "devices.remove": method(
    "devices.remove",
    "Remove one of this account's other devices (lost or retired): it is removed from every conversation and its KeyPackages are deleted, so it can read nothing sent afterwards.",
    z.strictObject({ id: z.string().min(1).max(128) }),
    z.object({ conversations: z.int().min(0).describe("Conversations it was removed from.") }),
    ["device_not_found", "server_unavailable"],
  ),
  "sync.now": method(
    "sync.now",
    "Sync with the home server now instead of waiting; answers when that sync is done.",
    none(),
    SyncState,
    ["not_ready", "server_unavailable"],
  ),
  "events.subscribe": method(
    "events.subscribe",
    "Receive `event` notifications. With `since`, first replays every event after that seq, then streams live ones: none lost, none twice, the same order for every client. Without it, only new events. Subscribing again replaces the subscription.",
    z.strictObject({ since: Seq.optional() }),
    z.object({ head: Seq.describe("The latest seq at the time of subscribing.") }),
  ),
  "events.unsubscribe": method("events.unsubscribe", "Stop receiving events.", none(), Ok()),
} as const satisfies Record<string, MethodSpec>;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
/** What a caller passes (defaults not yet applied). */
export type ParamsIn<M extends MethodName> = z.input<Methods[M]["params"]>;
/** What a handler receives (validated, defaults applied). */
export type Params<M extends MethodName> = z.output<Methods[M]["params"]>;
export type Result<M extends MethodName> = z.output<Methods[M]["result"]>;

export const METHOD_NAMES = Object.keys(methods) as MethodName[];

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(methods, name);
}

// Store records as the API's model objects (@sotto/api): what H6's methods return.
import {
  ActorId,
  type Attachment,
  type Contact,
  type Conversation,
  ConversationId,
  type Device,
  type Member,
  Message,
  MessageId,
  type Reaction,
} from "@sotto/api";
import { canonicalApplicationId } from "@sotto/core";
import type {
  ContactRecord,
  GroupRecord,
  MessageRecord,
  StoredMessage,
  StoredMessageChange,
} from "@sotto/storage";
import { CONTENT_LENGTH } from "./appdata.js";
import {
  type ConversationInfo,
  conversationAuthentication,
  readConversationInfo,
} from "./conversationInfo.js";

const iso = (ms: number): string => new Date(ms).toISOString();

export function conversationView(
  record: Omit<GroupRecord, "state"> & { updatedAt?: number },
  handles: (actorId: string) => { handle: string | null; displayName: string | null },
): Conversation {
  const info: ConversationInfo = readConversationInfo(record.info, record.updatedAt ?? Date.now());
  const members: Member[] = record.members.map((actorId) => ({ actorId, ...handles(actorId) }));
  return {
    id: record.id,
    title: info.title,
    members,
    createdAt: iso(info.createdAt),
    lastActivityAt: iso(info.lastActivityAt),
    lastMessageId: info.lastMessageId,
    unread: info.unread,
    epoch: record.epoch,
    left: info.left,
    keyChanged: info.keyChanged,
    authentication: conversationAuthentication(info),
    alerts: info.alerts.map((a) => ({ kind: a.kind, actorId: a.actorId, at: iso(a.at) })),
    outOfStep: info.outOfStep === null ? null : { ...info.outOfStep, since: iso(info.outOfStep.since) },
  };
}

/**
 * The inline attachments of a stored body (AS2 `attachment`, base64 `content`), as the API shows them. A media
 * message (a bare Image, Audio or Video, as in the spec's examples) shows its own media as the first one.
 */
function attachmentsOf(body: Record<string, unknown>): Attachment[] {
  const items = [
    ...(isMedia(body) ? [body] : []),
    ...(Array.isArray(body.attachment) ? body.attachment : []),
  ];
  return items.flatMap((item: { mediaType?: unknown; name?: unknown; content?: unknown }) =>
    typeof item?.mediaType === "string" && typeof item.content === "string"
      ? [
          {
            mediaType: item.mediaType,
            ...(typeof item.name === "string" ? { name: item.name } : {}),
            data: item.content,
          },
        ]
      : [],
  );
}

/** A body whose `content` is its media (base64), not text. */
function isMedia(body: Record<string, unknown>): boolean {
  return body.encoding === "base64" && body.type !== "Note" && body.type !== "Article";
}

/** Reactions left standing after replaying reaction / unreaction history in order. */
export function reactionsOf(history: readonly StoredMessageChange[]): Reaction[] {
  const byEmoji = new Map<string, Set<string>>();
  for (const change of history) {
    const emoji = (change.data as { emoji?: unknown } | null)?.emoji;
    if (typeof emoji !== "string") continue;
    if (change.kind === "reaction") byEmoji.set(emoji, (byEmoji.get(emoji) ?? new Set()).add(change.actor));
    else if (change.kind === "unreaction") byEmoji.get(emoji)?.delete(change.actor);
  }
  return [...byEmoji]
    .filter(([, actors]) => actors.size > 0)
    .map(([emoji, actors]) => ({ emoji, actors: [...actors].sort() }));
}

/** The message a body replies to, by the store's key (the canonical id); the body keeps the id as it was sent. */
function inReplyToOf(body: Record<string, unknown>): string | null {
  const replyTo =
    typeof body.inReplyTo === "string"
      ? body.inReplyTo
      : ((body.inReplyTo as { id?: string } | undefined)?.id ?? null);
  return replyTo === null ? null : canonicalApplicationId(replyTo);
}

export function messageView(
  message: StoredMessage,
  history: readonly StoredMessageChange[],
  readBy: readonly string[],
): Message {
  const body = (message.body ?? {}) as Record<string, unknown>;
  const text = (key: string) => (typeof body[key] === "string" ? (body[key] as string) : null);
  const inReplyTo = inReplyToOf(body);
  const attachments = message.deletedAt !== null ? [] : attachmentsOf(body);
  return {
    id: message.id,
    conversationId: message.conversation,
    author: message.author,
    type: text("type") ?? "Note",
    content: message.deletedAt !== null || isMedia(body) ? "" : (text("content") ?? ""),
    ...(typeof body[CONTENT_LENGTH] === "number" && message.deletedAt === null
      ? { truncatedFrom: body[CONTENT_LENGTH] as number }
      : {}),
    mediaType: (isMedia(body) ? null : text("mediaType")) ?? "text/html",
    inReplyTo,
    published: iso(message.at),
    editedAt: message.editedAt === null ? null : iso(message.editedAt),
    deleted: message.deletedAt !== null,
    reactions: reactionsOf(history),
    readBy: [...readBy],
    outbox: message.direction === "out" && message.state !== "received" ? message.state : null,
    ...(attachments.length > 0 ? { attachments } : {}),
  };
}

/**
 * Whether a message, as it would be stored, comes out of the API valid (the rule shared with the reader's and
 * the API's limits: never store what the API cannot return). Checked before a received message or edit is
 * stored, so that one odd message can never make a conversation unlistable.
 */
export function isListable(message: MessageRecord, editedAt: number | null = null): boolean {
  if (isPlainlyValid(message, editedAt)) return true;
  const view = messageView({ ...message, editedAt, deletedAt: null, updatedAt: message.at }, [], []);
  return Message.safeParse(view).success;
}

/** Authors already found valid as an API `ActorId` (a daemon hears from few; the set is emptied when large). */
const validAuthors = new Set<string>();

const within = (text: string, schema: { minLength: number | null; maxLength: number | null }) =>
  text.length >= (schema.minLength ?? 0) && text.length <= (schema.maxLength ?? Number.POSITIVE_INFINITY);

/** A time of a year from 0 to 9999, which `toISOString` writes in 24 characters: what `Timestamp` accepts. */
const isPlainTime = (ms: number | null) =>
  ms === null || (ms >= -62_167_219_200_000 && ms <= 253_402_300_799_999);

/**
 * Whether the API's Message schema accepts the view of a received message, said from the record without
 * building the view or running the schema: ids within the lengths of their schemas (read from them), an author
 * the schema accepted before, plain times, and nothing else a peer sent (media, attachments, a cut length); the
 * other fields `messageView` makes of its own values. False only means "ask the schema". The whole schema on
 * every message was about 2% of a catch-up's CPU, and the view built to check it 2% more; `view.test.ts`
 * checks that this never accepts what the schema refuses.
 */
function isPlainlyValid(message: MessageRecord, editedAt: number | null): boolean {
  const body = (message.body ?? {}) as Record<string, unknown>;
  if (isMedia(body) || body.attachment !== undefined || body[CONTENT_LENGTH] !== undefined) return false;
  if (message.direction === "out" && message.state !== "received") return false;
  if (!within(message.id, MessageId) || !within(message.conversation, ConversationId)) return false;
  const inReplyTo = inReplyToOf(body);
  if (inReplyTo !== null && !within(inReplyTo, MessageId)) return false;
  if (!isPlainTime(message.at) || !isPlainTime(editedAt)) return false;
  if (validAuthors.has(message.author)) return true;
  if (!ActorId.safeParse(message.author).success) return false;
  if (validAuthors.size >= 1000) validAuthors.clear();
  validAuthors.add(message.author);
  return true;
}

export function contactView(
  record: ContactRecord,
  keyChangedAt: number | null,
  handle: { handle: string | null; displayName: string | null },
): Contact {
  const verified = record.verification === "verified";
  const devices: Device[] = record.devices.map((d) => ({
    id: d.fingerprint.replaceAll(" ", "").slice(0, 32),
    name: d.name ?? null,
    fingerprint: d.fingerprint,
    current: false,
    firstSeen: iso(d.firstSeen),
    verified,
    ...(d.authentication === undefined ? {} : { authentication: d.authentication }),
    endorsedBy: d.endorsedBy ?? null,
  }));
  const outcomes = devices.map((d) => d.authentication);
  return {
    actorId: record.actor,
    handle: handle.handle,
    displayName: record.name ?? handle.displayName,
    devices,
    verified,
    keyChangedAt: keyChangedAt === null ? null : iso(keyChangedAt),
    ...(outcomes.includes("contradicted")
      ? { authentication: "contradicted" as const }
      : outcomes.includes("uncheckable")
        ? { authentication: "uncheckable" as const }
        : outcomes.length > 0 && outcomes.every((a) => a === "authenticated")
          ? { authentication: "authenticated" as const }
          : {}),
  };
}

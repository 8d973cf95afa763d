import {
  type AuthenticatedLeaf,
  type Conversation,
  decodeConversation,
  type Envelope,
  encodeConversation,
  epochOf,
  members,
  ownLeafIndex,
  writeMessageCreate,
} from "@sotto/core";
import type { ContactRecord, EventInput, GroupRecord, OutboxChange } from "@sotto/storage";
import { fingerprintText, updateContact } from "./contacts.js";
import type { DaemonContext } from "./context.js";
import { type ConversationInfo, readConversationInfo, withAlerts } from "./conversationInfo.js";
import type { Endorsements } from "./endorsement.js";
import { event } from "./events.js";

export interface LoadedConversation {
  readonly conversation: Conversation;
  readonly info: ConversationInfo;
  readonly members: readonly string[];
}

/** The group a group message is for, from its clear header; undefined when that is not UTF-8. */
export function groupIdOf(envelope: Envelope): string | undefined {
  const message = envelope.message;
  const bytes =
    message.wireformat === "mls_private_message"
      ? message.privateMessage.groupId
      : message.wireformat === "mls_public_message"
        ? message.publicMessage.content.groupId
        : undefined;
  if (bytes === undefined) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A conversation's MLS state and info from the store; undefined when unknown (or undecodable, logged). */
export function loadConversation(ctx: DaemonContext, groupId: string): LoadedConversation | undefined {
  const cached = ctx.conversations.get(groupId);
  if (cached !== undefined) return cached;
  const record = ctx.store.group(groupId);
  if (record === undefined) return undefined;
  const decoded = decodeConversation(record.state);
  if (!decoded.ok) {
    ctx.log.error("group_state_undecodable", { conversation: groupId, code: decoded.error.code });
    ctx.counters.add("groups.undecodable");
    return undefined;
  }
  return {
    conversation: decoded.value,
    info: readConversationInfo(record.info, ctx.now()),
    members: record.members,
  };
}

/** Member actors of a conversation, this account included, each once. */
export function memberActors(conversation: Conversation): string[] {
  return [...new Set(members(conversation).map((m) => m.actorId))];
}

/** The actors a message to the group goes to: every member but this device (own actor when it has others). */
export function recipientsOf(ctx: DaemonContext, conversation: Conversation): string[] {
  const self = ownLeafIndex(conversation);
  return [
    ...new Set(
      members(conversation)
        .filter((m) => m.leafIndex !== self)
        .map((m) => m.actorId),
    ),
  ].filter(
    (a) => a !== ctx.settings.actorId || members(conversation).filter((m) => m.actorId === a).length > 1,
  );
}

export function groupRecord(conversation: Conversation, info: ConversationInfo): GroupRecord {
  return {
    id: conversation.groupId,
    epoch: Number(epochOf(conversation)),
    state: encodeConversation(conversation),
    members: memberActors(conversation),
    info: info as unknown as GroupRecord["info"],
  };
}

let outboxSeq = 0;

/** An outbox item id that sorts in creation order (the store lists queued items by time, then id). */
export function outboxId(now: number): string {
  outboxSeq = (outboxSeq + 1) % 1e6;
  return `${now.toString().padStart(15, "0")}-${outboxSeq.toString().padStart(6, "0")}-${crypto.randomUUID().slice(0, 8)}`;
}

export type OutboxPurpose = "message" | "handshake" | "welcome" | "key_package";

/** What an outbox item holds: the activity to post, and the message whose state follows it. */
export interface OutboxPayload {
  readonly activity: Record<string, unknown>;
  readonly purpose: OutboxPurpose;
  readonly messageId?: string;
}

/** Queues MLS bytes for `recipients`, wrapped in the conservative Create envelope. */
export function queueMls(
  ctx: DaemonContext,
  conversationId: string,
  bytes: Uint8Array,
  recipients: readonly string[],
  purpose: OutboxPurpose,
  options: { messageId?: string; published?: string } = {},
): OutboxChange[] {
  if (recipients.length === 0) return [];
  const activity = writeMessageCreate({
    actor: ctx.settings.actorId,
    recipients,
    bytes,
    context: conversationId,
    published: options.published ?? new Date(ctx.now()).toISOString(),
    generator: ctx.generator,
  });
  const payload: OutboxPayload = {
    activity: activity as unknown as Record<string, unknown>,
    purpose,
    ...(options.messageId === undefined ? {} : { messageId: options.messageId }),
  };
  return [
    { op: "enqueue", id: outboxId(ctx.now()), conversation: conversationId, payload: payload as never },
  ];
}

/**
 * Contacts brought up to date with the devices a conversation shows, and with what checking `checked` found;
 * when a verified contact has a new device that none of their verified devices endorsed (`endorsed`, see
 * endorsement.ts), the conversation is marked (`keyChanged`), gets a `device_unendorsed` alert, and a
 * `contact.key_changed` event says so.
 */
export function contactUpdates(
  ctx: DaemonContext,
  conversation: Conversation,
  info: ConversationInfo,
  at: number,
  checked: readonly AuthenticatedLeaf[] = [],
  endorsed: Endorsements = new Map(),
): { contacts: ContactRecord[]; events: EventInput[]; info: ConversationInfo } {
  const byActor = new Map<string, string[]>();
  for (const m of members(conversation)) {
    if (m.actorId === ctx.settings.actorId) continue;
    byActor.set(m.actorId, [...(byActor.get(m.actorId) ?? []), fingerprintText(m.signaturePublicKey)]);
  }
  // A key may show up under two actors (a forged leaf reuses its maker's key): outcomes are per actor.
  const authenticationOf = (actorId: string) =>
    new Map(
      checked
        .filter((c) => c.member.actorId === actorId)
        .map((c) => [fingerprintText(c.member.signaturePublicKey), c.authentication] as const),
    );
  const contacts: ContactRecord[] = [];
  const events: EventInput[] = [];
  let marked = info;
  for (const [actorId, fingerprints] of byActor) {
    const change = updateContact(
      ctx.store.contact(actorId),
      {
        actorId,
        fingerprints,
        authentication: authenticationOf(actorId),
        endorsedBy: endorsed,
        names: namesOf(ctx, fingerprints),
      },
      at,
    );
    if (change === undefined) continue;
    contacts.push(change.contact);
    if (change.newDevices || change.verifiedChanged)
      events.push(event({ type: "contact.key_changed", actorId }));
    if (change.verifiedChanged) {
      marked = withAlerts({ ...marked, keyChanged: true }, [{ kind: "device_unendorsed", actorId, at }]);
      events.push(
        event({
          type: "conversation.security_alert",
          conversationId: conversation.groupId,
          kind: "device_unendorsed",
          actorId,
        }),
      );
    }
  }
  if (marked !== info)
    events.push(event({ type: "conversation.updated", conversationId: conversation.groupId }));
  ctx.learnHandles([...byActor.keys()]);
  return { contacts, events, info: marked };
}

/** The names the devices published with their KeyPackages, as the directory last listed them. */
function namesOf(ctx: DaemonContext, fingerprints: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const fingerprint of fingerprints) {
    const name = ctx.directory.deviceName(fingerprint);
    if (name !== undefined) names.set(fingerprint, name);
  }
  return names;
}

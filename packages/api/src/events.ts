// Events say what changed, not the new state: a client re-queries what it shows. Each is the `params` of an
// `event` notification and carries its position in the daemon's event log (`seq`), so a client that was away
// resumes with `events.subscribe({ since: lastSeq })` and misses nothing.
//
// The daemon writes an `EventBody` (an event without `seq`) into the store's event log in the same transaction
// as the change it describes; the log assigns `seq`.
import { z } from "zod";
import { ActorId, ConversationId, MessageId, OutboxState, SecurityAlert, Seq, SyncState } from "./model.js";

/** The JSON-RPC method name of every event notification. */
export const EVENT_METHOD = "event";

// Each event is declared once: its body (what the daemon writes) and the event (the body with its `seq`).
function define<T extends string, S extends z.ZodRawShape>(
  type: T,
  id: string,
  description: string,
  shape: S,
) {
  return {
    body: z.object({ type: z.literal(type), ...shape }),
    event: z.object({ seq: Seq, type: z.literal(type), ...shape }).meta({ id, description }),
  };
}

const inConversation = { conversationId: ConversationId };
const aboutMessage = { conversationId: ConversationId, messageId: MessageId };

const messageCreated = define(
  "message.created",
  "MessageCreatedEvent",
  "A message arrived, or was sent from this account.",
  aboutMessage,
);
const messageUpdated = define(
  "message.updated",
  "MessageUpdatedEvent",
  "A message was edited, or its delivery state or receipts changed.",
  aboutMessage,
);
const messageDeleted = define(
  "message.deleted",
  "MessageDeletedEvent",
  "A message was deleted by its author.",
  aboutMessage,
);
const reactionsChanged = define(
  "reactions.changed",
  "ReactionsChangedEvent",
  "Reactions on a message were added or removed.",
  aboutMessage,
);
const conversationCreated = define(
  "conversation.created",
  "ConversationCreatedEvent",
  "This account created, or was welcomed into, a conversation.",
  inConversation,
);
const conversationUpdated = define(
  "conversation.updated",
  "ConversationUpdatedEvent",
  "A conversation's title, read marker, unread count or state changed (leaving it included).",
  inConversation,
);
const conversationMembersChanged = define(
  "conversation.members_changed",
  "ConversationMembersChangedEvent",
  "Members were added to or removed from a conversation (an MLS commit).",
  { ...inConversation, added: z.array(ActorId), removed: z.array(ActorId) },
);
const conversationOutOfStep = define(
  "conversation.out_of_step",
  "ConversationOutOfStepEvent",
  "A member's commit could not be applied, so this device is out of step with that member (`Conversation.outOfStep` says since when); ask them to re-add this device.",
  { ...inConversation, actor: ActorId, reason: z.string() },
);
const receipt = define("receipt", "ReceiptEvent", "A member sent a delivery or read receipt.", {
  ...aboutMessage,
  actor: ActorId,
  kind: z.enum(["delivered", "read"]),
});
const contactKeyChanged = define(
  "contact.key_changed",
  "ContactKeyChangedEvent",
  "A contact's device appeared, disappeared or changed its key: an earlier verification no longer covers it.",
  { actorId: ActorId },
);
const securityAlert = define(
  "conversation.security_alert",
  "ConversationSecurityAlertEvent",
  "A security alert was added to a conversation (see SecurityAlert): show it to the user.",
  { ...inConversation, kind: SecurityAlert.shape.kind, actorId: SecurityAlert.shape.actorId },
);
const devicesChanged = define(
  "devices.changed",
  "DevicesChangedEvent",
  "This account's devices changed: a device asks to be linked (compare its comparison string, then `devices.approve`), was linked or removed. Re-query `devices.list`.",
  { deviceId: z.string() },
);
const syncState = define("sync.state", "SyncStateEvent", "The sync with the home server changed state.", {
  sync: SyncState,
});
const outboxState = define(
  "outbox.state",
  "OutboxStateEvent",
  "An outgoing message moved through the outbox (queued -> sent | failed).",
  { ...aboutMessage, state: OutboxState, error: z.string().nullable() },
);
const gap = define(
  "gap",
  "GapEvent",
  "Events `from`..`to` (inclusive) are older than the log keeps and cannot be replayed: re-query everything. `seq` equals `to`.",
  { from: Seq, to: Seq },
);

export const MessageCreatedEvent = messageCreated.event;
export const MessageUpdatedEvent = messageUpdated.event;
export const MessageDeletedEvent = messageDeleted.event;
export const ReactionsChangedEvent = reactionsChanged.event;
export const ConversationCreatedEvent = conversationCreated.event;
export const ConversationUpdatedEvent = conversationUpdated.event;
export const ConversationMembersChangedEvent = conversationMembersChanged.event;
export const ConversationOutOfStepEvent = conversationOutOfStep.event;
export const ReceiptEvent = receipt.event;
export const ContactKeyChangedEvent = contactKeyChanged.event;
export const ConversationSecurityAlertEvent = securityAlert.event;
export const DevicesChangedEvent = devicesChanged.event;
export const SyncStateEvent = syncState.event;
export const OutboxStateEvent = outboxState.event;
export const GapEvent = gap.event;

export const ApiEvent = z
  .discriminatedUnion("type", [
    MessageCreatedEvent,
    MessageUpdatedEvent,
    MessageDeletedEvent,
    ReactionsChangedEvent,
    ConversationCreatedEvent,
    ConversationUpdatedEvent,
    ConversationMembersChangedEvent,
    ConversationOutOfStepEvent,
    ReceiptEvent,
    ContactKeyChangedEvent,
    ConversationSecurityAlertEvent,
    DevicesChangedEvent,
    SyncStateEvent,
    OutboxStateEvent,
    GapEvent,
  ])
  .meta({ id: "Event", description: "The params of an `event` notification." });

/** Every event type, in declaration order. */
export const EVENT_TYPES = ApiEvent.options.map((o) => o.shape.type.value);

/** What the daemon writes into the event log: an event without its `seq`. `gap` is the server's own. */
export const EventBody = z
  .discriminatedUnion("type", [
    messageCreated.body,
    messageUpdated.body,
    messageDeleted.body,
    reactionsChanged.body,
    conversationCreated.body,
    conversationUpdated.body,
    conversationMembersChanged.body,
    conversationOutOfStep.body,
    receipt.body,
    contactKeyChanged.body,
    securityAlert.body,
    devicesChanged.body,
    syncState.body,
    outboxState.body,
  ])
  .meta({
    id: "EventBody",
    description: "An event as the daemon writes it into the event log, before it has a `seq`.",
  });

export type ApiEvent = z.infer<typeof ApiEvent>;
export type EventType = ApiEvent["type"];
export type EventOf<T extends EventType> = Extract<ApiEvent, { type: T }>;
export type EventBody = z.infer<typeof EventBody>;

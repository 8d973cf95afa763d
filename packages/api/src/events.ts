// Events say what changed, not the new state: a client re-queries what it shows. Each is the `params` of an
// `event` notification and carries its position in the daemon's event log (`seq`), so a client that was away
// resumes with `events.subscribe({ since: lastSeq })` and misses nothing.
//
// The daemon writes an `EventBody` (an event without `seq`) into the store's event log in the same transaction
// as the change it describes; the log assigns `seq`.
import { z } from "zod";
import { ActorId, ConversationId, MessageId, OutboxState, Seq, SyncState } from "./model.js";

/** The JSON-RPC method name of every event notification. */
export const EVENT_METHOD = "event";

// Each event is declared once, as its body; the event adds `seq`.
function body<T extends string, S extends z.ZodRawShape>(type: T, shape: S) {
  return z.object({ type: z.literal(type), ...shape });
}
function withSeq<B extends z.ZodObject>(b: B, id: string, description: string) {
  return b.extend({ seq: Seq }).meta({ id, description });
}

const inConversation = { conversationId: ConversationId };
const aboutMessage = { conversationId: ConversationId, messageId: MessageId };

const bodies = {
  messageCreated: body("message.created", aboutMessage),
  messageUpdated: body("message.updated", aboutMessage),
  messageDeleted: body("message.deleted", aboutMessage),
  reactionsChanged: body("reactions.changed", aboutMessage),
  conversationCreated: body("conversation.created", inConversation),
  conversationUpdated: body("conversation.updated", inConversation),
  conversationMembersChanged: body("conversation.members_changed", {
    ...inConversation,
    added: z.array(ActorId),
    removed: z.array(ActorId),
  }),
  receipt: body("receipt", { ...aboutMessage, actor: ActorId, kind: z.enum(["delivered", "read"]) }),
  contactKeyChanged: body("contact.key_changed", { actorId: ActorId }),
  syncState: body("sync.state", { sync: SyncState }),
  outboxState: body("outbox.state", { ...aboutMessage, state: OutboxState, error: z.string().nullable() }),
  gap: body("gap", { from: Seq, to: Seq }),
};

export const MessageCreatedEvent = withSeq(
  bodies.messageCreated,
  "MessageCreatedEvent",
  "A message arrived, or was sent from this account.",
);
export const MessageUpdatedEvent = withSeq(
  bodies.messageUpdated,
  "MessageUpdatedEvent",
  "A message was edited, or its delivery state or receipts changed.",
);
export const MessageDeletedEvent = withSeq(
  bodies.messageDeleted,
  "MessageDeletedEvent",
  "A message was deleted by its author.",
);
export const ReactionsChangedEvent = withSeq(
  bodies.reactionsChanged,
  "ReactionsChangedEvent",
  "Reactions on a message were added or removed.",
);
export const ConversationCreatedEvent = withSeq(
  bodies.conversationCreated,
  "ConversationCreatedEvent",
  "This account created, or was welcomed into, a conversation.",
);
export const ConversationUpdatedEvent = withSeq(
  bodies.conversationUpdated,
  "ConversationUpdatedEvent",
  "A conversation's title, read marker, unread count or state changed (leaving it included).",
);
export const ConversationMembersChangedEvent = withSeq(
  bodies.conversationMembersChanged,
  "ConversationMembersChangedEvent",
  "Members were added to or removed from a conversation (an MLS commit).",
);
export const ReceiptEvent = withSeq(
  bodies.receipt,
  "ReceiptEvent",
  "A member sent a delivery or read receipt.",
);
export const ContactKeyChangedEvent = withSeq(
  bodies.contactKeyChanged,
  "ContactKeyChangedEvent",
  "A contact's device appeared, disappeared or changed its key: an earlier verification no longer covers it.",
);
export const SyncStateEvent = withSeq(
  bodies.syncState,
  "SyncStateEvent",
  "The sync with the home server changed state.",
);
export const OutboxStateEvent = withSeq(
  bodies.outboxState,
  "OutboxStateEvent",
  "An outgoing message moved through the outbox (queued -> sent | failed).",
);
export const GapEvent = withSeq(
  bodies.gap,
  "GapEvent",
  "Events `from`..`to` (inclusive) are older than the log keeps and cannot be replayed: re-query everything. `seq` equals `to`.",
);

export const ApiEvent = z
  .discriminatedUnion("type", [
    MessageCreatedEvent,
    MessageUpdatedEvent,
    MessageDeletedEvent,
    ReactionsChangedEvent,
    ConversationCreatedEvent,
    ConversationUpdatedEvent,
    ConversationMembersChangedEvent,
    ReceiptEvent,
    ContactKeyChangedEvent,
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
    bodies.messageCreated,
    bodies.messageUpdated,
    bodies.messageDeleted,
    bodies.reactionsChanged,
    bodies.conversationCreated,
    bodies.conversationUpdated,
    bodies.conversationMembersChanged,
    bodies.receipt,
    bodies.contactKeyChanged,
    bodies.syncState,
    bodies.outboxState,
  ])
  .meta({
    id: "EventBody",
    description: "An event as the daemon writes it into the event log, before it has a `seq`.",
  });

export type ApiEvent = z.infer<typeof ApiEvent>;
export type EventType = ApiEvent["type"];
export type EventOf<T extends EventType> = Extract<ApiEvent, { type: T }>;
export type EventBody = z.infer<typeof EventBody>;

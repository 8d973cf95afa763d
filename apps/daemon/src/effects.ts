import type { EventInput, MessageChange, MessageRecord } from "@sotto/storage";
import { type Intent, noteBody } from "./appdata.js";
import type { DaemonContext } from "./context.js";
import type { ConversationInfo } from "./conversationInfo.js";
import { event } from "./events.js";
import { isListable } from "./view.js";

/** What one application activity changes in a conversation: rows, events and the conversation's info. */
export interface Effect {
  readonly messages: MessageRecord[];
  readonly changes: MessageChange[];
  readonly events: EventInput[];
  readonly info: ConversationInfo;
}

/**
 * Turns one application activity of `sender` into what it changes, the same whether this device received it
 * or sent it (but for a new message, which is written here as received: `sendMessage` writes its own as
 * queued). A target outside the conversation, or one the sender may not change, changes nothing (counted).
 */
export function effectOf(
  ctx: Pick<DaemonContext, "store" | "counters">,
  groupId: string,
  info: ConversationInfo,
  sender: string,
  intent: Intent,
  at: number,
): Effect {
  const none = { messages: [], changes: [], events: [], info };
  /** One change of a message, the event that tells it, and the conversation's info after it. */
  const changed = (
    change: MessageChange,
    told: "message.updated" | "message.deleted" | "reactions.changed",
    after: ConversationInfo,
  ): Effect => ({
    messages: [],
    changes: [change],
    events: [event({ type: told, conversationId: groupId, messageId: change.messageId })],
    info: after,
  });
  const target = (messageId: string) => {
    const message = ctx.store.message(messageId);
    return message !== undefined && message.conversation === groupId ? message : undefined;
  };
  switch (intent.kind) {
    case "message": {
      if (ctx.store.hasMessage(intent.id)) return none;
      const published = intent.published === undefined ? Number.NaN : Date.parse(intent.published);
      const message: MessageRecord = {
        id: intent.id,
        conversation: groupId,
        author: sender,
        // The sender's clock orders its messages, unless it is wildly off.
        at: Number.isFinite(published) && Math.abs(published - at) < 7 * 24 * 3600_000 ? published : at,
        direction: "in",
        state: "received",
        body: noteBody(intent.object),
      };
      if (!isListable(message)) {
        ctx.counters.add("appdata.refused.unlistable");
        return none;
      }
      return {
        messages: [message],
        changes: [],
        events: [event({ type: "message.created", conversationId: groupId, messageId: intent.id })],
        info: { ...info, lastActivityAt: at, lastMessageId: intent.id, unread: info.unread + 1 },
      };
    }
    case "edit":
    case "delete": {
      const message = target(intent.messageId);
      if (message === undefined || message.author !== sender) {
        ctx.counters.add(message === undefined ? "appdata.unknown_target" : "appdata.not_author");
        return none;
      }
      const data = intent.kind === "edit" ? noteBody(intent.object) : undefined;
      if (data !== undefined && !isListable({ ...message, body: data }, at)) {
        ctx.counters.add("appdata.refused.unlistable");
        return none;
      }
      return changed(
        {
          id: intent.id,
          messageId: intent.messageId,
          kind: intent.kind,
          actor: sender,
          at,
          ...(data === undefined ? {} : { data }),
        },
        intent.kind === "edit" ? "message.updated" : "message.deleted",
        { ...info, lastActivityAt: at },
      );
    }
    case "react": {
      if (target(intent.messageId) === undefined) {
        ctx.counters.add("appdata.unknown_target");
        return none;
      }
      return changed(
        {
          id: intent.id,
          messageId: intent.messageId,
          kind: "reaction",
          actor: sender,
          at,
          data: { emoji: intent.emoji },
        },
        "reactions.changed",
        {
          ...info,
          likes: {
            ...info.likes,
            [intent.id]: { messageId: intent.messageId, emoji: intent.emoji, actor: sender },
          },
        },
      );
    }
    case "unreact": {
      // Only the sender of the Like may undo it (spec §Activities). Without the Like's id (Emissary), the
      // sender's Like of that message with that emoji is the one.
      const wanted = intent.like;
      const likeId =
        "id" in wanted
          ? wanted.id
          : Object.entries(info.likes).find(
              ([, l]) =>
                l.actor === sender &&
                l.messageId === wanted.messageId &&
                (wanted.emoji === undefined || l.emoji === wanted.emoji),
            )?.[0];
      const like = likeId === undefined ? undefined : info.likes[likeId];
      if (likeId === undefined || like === undefined || like.actor !== sender) {
        ctx.counters.add(like === undefined ? "appdata.unknown_target" : "appdata.not_author");
        return none;
      }
      const { [likeId]: _undone, ...likes } = info.likes;
      return changed(
        {
          id: intent.id,
          messageId: like.messageId,
          kind: "unreaction",
          actor: sender,
          at,
          data: { emoji: like.emoji, like: likeId },
        },
        "reactions.changed",
        { ...info, likes },
      );
    }
    case "receipt": {
      if (target(intent.messageId) === undefined) return none;
      return {
        messages: [],
        changes: [],
        events: [
          event({
            type: "receipt",
            conversationId: groupId,
            messageId: intent.messageId,
            actor: sender,
            kind: intent.receipt,
          }),
        ],
        info:
          intent.receipt === "read"
            ? { ...info, receipts: { ...info.receipts, [sender]: intent.messageId } }
            : info,
      };
    }
    case "title": {
      // Any member may name the conversation; a context naming another conversation changes nothing.
      if (intent.conversationId !== undefined && intent.conversationId !== groupId) {
        ctx.counters.add("appdata.other_conversation");
        return none;
      }
      if (intent.title === info.title) return none;
      return {
        messages: [],
        changes: [],
        events: [event({ type: "conversation.updated", conversationId: groupId })],
        info: { ...info, title: intent.title },
      };
    }
    case "ignored":
      return none;
  }
}

/**
 * A member's commit that this device refused although it came from a member (RFC 9420 forbids it, e.g. a
 * Remove without UpdatePath from a ts-mls 2 release candidate): the member's later messages will wait for an
 * epoch this device never reaches. The conversation says so, once per member until it is in step again.
 */
export function outOfStepEffect(
  groupId: string,
  info: ConversationInfo,
  actor: string,
  reason: string,
  at: number,
): Pick<Effect, "events" | "info"> {
  if (info.outOfStep?.actor === actor) return { events: [], info };
  return {
    events: [event({ type: "conversation.out_of_step", conversationId: groupId, actor, reason })],
    info: { ...info, outOfStep: { actor, since: at, reason } },
  };
}

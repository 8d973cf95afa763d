import type { Conversation } from "@sotto/api";

/** A member's display name, else handle, else actor id. */
export function nameOf(conversation: Conversation | undefined, actorId: string): string {
  const member = conversation?.members.find((m) => m.actorId === actorId);
  return member?.displayName ?? member?.handle ?? actorId;
}

/** The title, else the other members' names. */
export function titleOf(conversation: Conversation, self: string | undefined): string {
  if (conversation.title) return conversation.title;
  const others = conversation.members.filter((m) => m.actorId !== self);
  if (others.length === 0) return "Just you";
  return others.map((m) => m.displayName ?? m.handle ?? m.actorId).join(", ");
}

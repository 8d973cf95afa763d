// The conversation list: most recent first, unread counts, the last message's time.
import type { Conversation } from "@sotto/api";
import { titleOf } from "./names.js";
import { shortDateTime } from "./time.js";

export function ConversationList({
  conversations,
  selected,
  self,
  onSelect,
}: {
  conversations: readonly Conversation[];
  selected: string | undefined;
  self: string | undefined;
  onSelect: (id: string) => void;
}) {
  if (conversations.length === 0) return <p class="empty">No conversations yet. Start one above.</p>;
  return (
    <ul class="conversations">
      {conversations.map((c) => {
        const title = titleOf(c, self);
        const when = shortDateTime(c.lastActivityAt);
        return (
          <li key={c.id}>
            <button
              type="button"
              aria-current={c.id === selected ? "true" : undefined}
              aria-label={`${title}${c.unread > 0 ? `, ${c.unread} unread` : ""}${c.left ? ", left" : ""}`}
              onClick={() => onSelect(c.id)}
              data-conversation={c.id}
            >
              <span class="title">{title}</span>
              <span class="meta">
                {c.left ? "left · " : ""}
                {when}
              </span>
              {c.unread > 0 ? (
                <span class="badge" aria-hidden="true">
                  {c.unread}
                </span>
              ) : null}
            </button>
          </li>
        );
      })}
    </ul>
  );
}

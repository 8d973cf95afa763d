// The conversation's name in its header, and renaming it: the title is shared with every member
// (`conversations.setTitle`; any member may change it, an empty one goes back to the members' names).
import type { Conversation } from "@sotto/api";
import { MAX_TITLE_LENGTH } from "@sotto/core/limits";
import { useState } from "preact/hooks";
import type { Model } from "./model.js";
import { ErrorLine, useErrors } from "./useErrors.js";

export function Title({
  model,
  conversation,
  shown,
}: {
  model: Model;
  conversation: Conversation;
  shown: string;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState("");
  const { error, run } = useErrors();
  if (!editing) {
    return (
      <>
        <h2>{shown}</h2>
        {conversation.left ? null : (
          <button
            type="button"
            onClick={() => {
              setDraft(conversation.title ?? "");
              setEditing(true);
            }}
          >
            Rename
          </button>
        )}
      </>
    );
  }
  return (
    <form
      class="rename"
      aria-label="Rename the conversation"
      onSubmit={(e) => {
        e.preventDefault();
        void run("Renaming", async () => {
          const title = draft.trim();
          model.upsertConversation(
            await model.client.call("conversations.setTitle", {
              conversationId: conversation.id,
              title: title === "" ? null : title,
            }),
          );
          setEditing(false);
        });
      }}
    >
      <input
        aria-label="Title for every member (empty: their names)"
        value={draft}
        maxLength={MAX_TITLE_LENGTH}
        onInput={(e) => setDraft(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Escape") setEditing(false);
        }}
      />
      <button type="submit">Save title</button>
      <button type="button" onClick={() => setEditing(false)}>
        Cancel
      </button>
      <ErrorLine error={error} />
    </form>
  );
}

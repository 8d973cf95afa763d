// Start a 1:1 or group conversation by handle(s); the daemon resolves each by WebFinger and says what failed.
import type { Conversation } from "@sotto/api";
import { useState } from "preact/hooks";
import type { Model } from "./model.js";
import { ErrorLine, useErrors } from "./useErrors.js";

export function NewConversation({
  model,
  onCreated,
}: {
  model: Model;
  onCreated: (c: Conversation) => void;
}) {
  const [handles, setHandles] = useState("");
  const [title, setTitle] = useState("");
  const [busy, setBusy] = useState(false);
  const { error, run } = useErrors();
  const members = handles.split(/[\s,]+/).filter((h) => h !== "");
  return (
    <form
      class="panel"
      aria-label="New conversation"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        const created = await run("Starting the conversation", () =>
          model.client.call("conversations.create", {
            members,
            ...(title.trim() === "" ? {} : { title: title.trim() }),
          }),
        );
        setBusy(false);
        if (created) {
          model.upsertConversation(created);
          onCreated(created);
        }
      }}
    >
      <h2>New conversation</h2>
      <label>
        Handles (one for a 1:1, several for a group)
        <input
          value={handles}
          onInput={(e) => setHandles(e.currentTarget.value)}
          placeholder="@bob@example.org"
        />
      </label>
      <label>
        Group title (optional)
        <input value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      </label>
      <button type="submit" disabled={members.length === 0 || busy}>
        Start
      </button>
      {busy ? <p role="status">Resolving {members.join(", ")} and fetching their keys…</p> : null}
      <ErrorLine error={error} />
    </form>
  );
}

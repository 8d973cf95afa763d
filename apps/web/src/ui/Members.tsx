// A conversation's members: add by handle (resolved by the daemon, with its answer shown), remove, leave.
import type { Conversation } from "@sotto/api";
import { useState } from "preact/hooks";
import type { Model } from "./model.js";
import { ErrorLine, useErrors } from "./useErrors.js";

export function Members({
  model,
  conversation,
  self,
  onLeft,
}: {
  model: Model;
  conversation: Conversation;
  self: string;
  onLeft: () => void;
}) {
  const [handle, setHandle] = useState("");
  const [busy, setBusy] = useState<string | undefined>();
  const { error, run } = useErrors();
  const conversationId = conversation.id;
  const change = async (what: string, action: () => Promise<Conversation>) => {
    setBusy(what);
    const updated = await run(what, action);
    setBusy(undefined);
    if (updated) model.upsertConversation(updated);
    return updated;
  };
  return (
    <section class="panel" aria-label="Members">
      <ul>
        {conversation.members.map((m) => (
          <li key={m.actorId}>
            {m.displayName ?? m.handle ?? m.actorId}
            {m.actorId === self ? " (you)" : null}
            {m.actorId !== self && !conversation.left ? (
              <button
                type="button"
                aria-label={`Remove ${m.handle ?? m.actorId}`}
                onClick={() =>
                  void change("Removing a member", () =>
                    model.client.call("conversations.removeMembers", {
                      conversationId,
                      members: [m.actorId],
                    }),
                  )
                }
              >
                Remove
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {conversation.left ? null : (
        <>
          <form
            onSubmit={async (e) => {
              e.preventDefault();
              const added = await change(`Adding ${handle.trim()}`, () =>
                model.client.call("conversations.addMembers", { conversationId, members: [handle.trim()] }),
              );
              if (added) setHandle("");
            }}
          >
            <label>
              Add someone (handle){" "}
              <input
                value={handle}
                onInput={(e) => setHandle(e.currentTarget.value)}
                placeholder="@user@host"
              />
            </label>
            <button type="submit" disabled={handle.trim() === "" || busy !== undefined}>
              Add
            </button>
          </form>
          <button
            type="button"
            class="danger"
            onClick={async () => {
              const left = await run("Leaving", () =>
                model.client.call("conversations.leave", { conversationId }),
              );
              if (left) onLeft();
            }}
          >
            Leave conversation
          </button>
        </>
      )}
      {busy ? <p role="status">{busy}: resolving and updating the group…</p> : null}
      <ErrorLine error={error} />
    </section>
  );
}

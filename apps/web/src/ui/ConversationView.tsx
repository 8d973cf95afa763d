// An open conversation: header (title, members, key-change banner), the virtualised history and the composer.
// Files can be dropped anywhere on it. The read marker follows the newest message while the tab is visible.
import type { Attachment, Conversation, Message } from "@sotto/api";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { Composer } from "./Composer.js";
import { Members } from "./Members.js";
import { type MessageActions, MessageItem } from "./MessageItem.js";
import type { Model, Thread } from "./model.js";
import { titleOf } from "./names.js";
import { SecurityNotices, sendWarning } from "./Security.js";
import { Title } from "./Title.js";
import { ErrorLine, useErrors } from "./useErrors.js";
import { VirtualList } from "./VirtualList.js";

export interface ConversationViewProps {
  readonly model: Model;
  readonly conversation: Conversation;
  readonly thread: Thread | undefined;
  readonly self: string;
  readonly keyChanged: boolean;
  readonly onVerify: () => void;
  readonly onLeft: () => void;
}

export function ConversationView(props: ConversationViewProps) {
  const { model, conversation, thread, self } = props;
  const [replyTo, setReplyTo] = useState<Message | undefined>();
  const [editing, setEditing] = useState<Message | undefined>();
  const [files, setFiles] = useState<File[]>([]);
  const [showMembers, setShowMembers] = useState(false);
  const [sent, setSent] = useState(0);
  const { error, run } = useErrors();
  const loadingOlder = useRef(false);
  const client = model.client;
  const conversationId = conversation.id;

  useEffect(() => {
    setReplyTo(undefined);
    setEditing(undefined);
    setFiles([]);
    void run("Loading the messages", () => model.openThread(conversationId));
  }, [conversationId]);

  const newest = thread?.ids[thread.ids.length - 1];
  useEffect(() => {
    if (newest === undefined || conversation.unread === 0 || document.visibilityState !== "visible") return;
    void client.call("conversations.markRead", { conversationId, messageId: newest }).catch(() => {});
  }, [newest, conversation.unread]);

  const actions: MessageActions = {
    reply: (m) => {
      setEditing(undefined);
      setReplyTo(m);
    },
    edit: (m) => {
      setReplyTo(undefined);
      setEditing(m);
    },
    remove: (m) =>
      void run("Deleting", () => client.call("messages.delete", { conversationId, messageId: m.id })),
    react: (m, emoji, on) =>
      void run("Reacting", () =>
        client.call(on ? "messages.react" : "messages.unreact", { conversationId, messageId: m.id, emoji }),
      ),
    retry: (m) =>
      void run("Sending again", async () =>
        model.upsertMessage(
          await client.call("messages.send", {
            conversationId,
            text: m.content || "(attachment)",
            mediaType: m.mediaType === "text/html" ? "text/html" : "text/plain",
            ...(m.attachments ? { attachments: m.attachments } : {}),
          }),
        ),
      ),
  };

  const send = async (text: string, attachments: Attachment[]) => {
    if (editing) {
      model.upsertMessage(
        await client.call("messages.edit", { conversationId, messageId: editing.id, text }),
      );
      setEditing(undefined);
      return;
    }
    const message = await client.call("messages.send", {
      conversationId,
      text,
      ...(replyTo ? { inReplyTo: replyTo.id } : {}),
      ...(attachments.length > 0 ? { attachments } : {}),
    });
    setReplyTo(undefined);
    setFiles([]);
    model.upsertMessage(message);
    setSent((n) => n + 1);
  };

  const onNearTop = useCallback(() => {
    if (loadingOlder.current) return;
    loadingOlder.current = true;
    model.loadOlder(conversationId).finally(() => {
      loadingOlder.current = false;
    });
  }, [conversationId]);

  const title = titleOf(conversation, self);
  return (
    <section
      class="conversation"
      aria-label={`Conversation: ${title}`}
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => {
        e.preventDefault();
        const dropped = [...(e.dataTransfer?.files ?? [])];
        if (dropped.length > 0 && !conversation.left) setFiles((f) => [...f, ...dropped]);
      }}
    >
      <header class="bar">
        <Title model={model} conversation={conversation} shown={title} />
        <span class="meta">
          {conversation.members.length} members · end-to-end encrypted (MLS epoch {conversation.epoch})
        </span>
        <button type="button" aria-expanded={showMembers} onClick={() => setShowMembers(!showMembers)}>
          Members
        </button>
      </header>
      <SecurityNotices
        conversation={conversation}
        keyChanged={props.keyChanged || conversation.keyChanged === true}
        onReview={props.onVerify}
      />
      {showMembers ? (
        <Members model={model} conversation={conversation} self={self} onLeft={props.onLeft} />
      ) : null}
      <ErrorLine error={error} />
      {thread === undefined ? (
        <p class="meta" role="status">
          Loading messages…
        </p>
      ) : thread.ids.length === 0 ? (
        <p class="empty">No messages yet. Say hello.</p>
      ) : (
        <VirtualList
          label={`Messages with ${title}`}
          ids={thread.ids}
          followKey={sent}
          onNearTop={thread.before === null ? undefined : onNearTop}
          render={(id) => {
            const message = thread.byId.get(id) as Message;
            const quoted = message.inReplyTo === null ? undefined : thread.byId.get(message.inReplyTo);
            return (
              <MessageItem
                message={message}
                quoted={quoted}
                conversation={conversation}
                self={self}
                actions={actions}
              />
            );
          }}
        />
      )}
      {conversation.left ? (
        <p class="meta">You left this conversation; its history stays readable here.</p>
      ) : (
        <Composer
          replyTo={replyTo}
          editing={editing}
          files={files}
          disabled={false}
          warning={sendWarning(conversation)}
          onFiles={setFiles}
          onCancel={() => {
            setReplyTo(undefined);
            setEditing(undefined);
          }}
          onSend={send}
        />
      )}
    </section>
  );
}

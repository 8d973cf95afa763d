// One message: author, quoted reply, content (sanitised), attachments, reactions, and for this account's own
// messages their delivery state and receipts. Actions are buttons, so they work from the keyboard.
import type { Conversation, Message } from "@sotto/api";
import { MAX_HTML_LENGTH } from "@sotto/core/limits";
import { useEffect, useState } from "preact/hooks";
import { bytes, messageText, sanitizeHtml, showAttachment } from "./content.js";
import { nameOf } from "./names.js";
import { clockTime } from "./time.js";

/** Longer texts show their start and a button for the rest: a 2 MB message must not stall the page. */
const SHOWN_CHARS = 4000;
const QUICK_REACTIONS = ["👍", "❤️", "😂"];

export interface MessageActions {
  reply(message: Message): void;
  edit(message: Message): void;
  remove(message: Message): void;
  react(message: Message, emoji: string, on: boolean): void;
  retry(message: Message): void;
}

export interface MessageItemProps {
  readonly message: Message;
  readonly quoted: Message | undefined;
  readonly conversation: Conversation;
  readonly self: string;
  readonly actions: MessageActions;
}

export function MessageItem({ message, quoted, conversation, self, actions }: MessageItemProps) {
  const mine = message.author === self;
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    // Event-to-paint: the mark was set when the event arrived; measure once this row is on screen.
    const mark = `sotto:event:${message.id}`;
    if (performance.getEntriesByName(mark, "mark").length === 0) return;
    requestAnimationFrame(() => {
      performance.measure(`sotto:paint:${message.id}`, mark);
      performance.clearMarks(mark);
    });
  }, [message.id]);
  const time = clockTime(message.published);
  return (
    <article
      class={mine ? "message mine" : "message"}
      aria-label={`${nameOf(conversation, message.author)} at ${time}`}
      data-message={message.id}
    >
      <header>
        <span class="author">{nameOf(conversation, message.author)}</span>{" "}
        <time dateTime={message.published}>{time}</time>
        {message.editedAt !== null && !message.deleted ? <span class="meta"> (edited)</span> : null}
      </header>
      {quoted ? (
        <blockquote class="quote">
          <span class="author">{nameOf(conversation, quoted.author)}</span>: {excerpt(quoted)}
        </blockquote>
      ) : null}
      {message.deleted ? <p class="meta">This message was deleted.</p> : <Content message={message} />}
      {message.deleted
        ? null
        : (message.attachments ?? []).map((attachment, i) => {
            const shown = showAttachment(`${message.id}#${i}`, attachment);
            return shown.inline ? (
              <img key={shown.url} class="image" src={shown.url} alt={shown.name} />
            ) : (
              <a key={shown.url} class="file" href={shown.url} download={shown.name}>
                Download {shown.name} ({shown.mediaType}, {bytes(shown.size)})
              </a>
            );
          })}
      {message.reactions.length > 0 ? (
        <ul class="reactions" aria-label="Reactions">
          {message.reactions.map((r) => {
            const on = r.actors.includes(self);
            return (
              <li key={r.emoji}>
                <button
                  type="button"
                  aria-pressed={on}
                  aria-label={`${r.emoji} ${r.actors.length}${on ? ", yours: take back" : ""}`}
                  onClick={() => actions.react(message, r.emoji, !on)}
                >
                  {r.emoji} {r.actors.length}
                </button>
              </li>
            );
          })}
        </ul>
      ) : null}
      {mine ? <Delivery message={message} conversation={conversation} onRetry={actions.retry} /> : null}
      {message.deleted ? null : (
        <div class="actions">
          <button type="button" onClick={() => actions.reply(message)}>
            Reply
          </button>
          {QUICK_REACTIONS.map((emoji) => (
            <button
              key={emoji}
              type="button"
              aria-label={`React ${emoji}`}
              onClick={() => actions.react(message, emoji, true)}
            >
              {emoji}
            </button>
          ))}
          {mine ? (
            <>
              <button type="button" onClick={() => actions.edit(message)}>
                Edit
              </button>
              {confirming ? (
                <button type="button" class="danger" onClick={() => actions.remove(message)}>
                  Delete for everyone
                </button>
              ) : (
                <button type="button" onClick={() => setConfirming(true)}>
                  Delete
                </button>
              )}
            </>
          ) : null}
        </div>
      )}
    </article>
  );
}

function Content({ message }: { message: Message }) {
  const [all, setAll] = useState(false);
  const long = message.content.length > SHOWN_CHARS;
  const text = long && !all ? message.content.slice(0, SHOWN_CHARS) : message.content;
  return (
    <div class="content">
      {message.mediaType === "text/html" ? (
        // Sanitised by DOMPurify with a short allow-list (content.ts).
        <div dangerouslySetInnerHTML={{ __html: sanitizeHtml(text) }} />
      ) : (
        <p class="text">{text}</p>
      )}
      {long && !all ? (
        <button type="button" onClick={() => setAll(true)}>
          Show all ({message.content.length.toLocaleString()} characters)
        </button>
      ) : null}
      {message.truncatedFrom !== undefined ? (
        <p class="meta cut">
          Cut by your daemon: the sender's message was {message.truncatedFrom.toLocaleString()} characters
          long; the first {MAX_HTML_LENGTH.toLocaleString()} are kept. Ask them for the rest another way.
        </p>
      ) : null}
    </div>
  );
}

function Delivery({
  message,
  conversation,
  onRetry,
}: {
  message: Message;
  conversation: Conversation;
  onRetry: (message: Message) => void;
}) {
  const readers = message.readBy.filter((actor) => actor !== message.author);
  if (message.outbox === "failed") {
    return (
      <p class="delivery failed" role="status">
        Not sent.{" "}
        <button type="button" onClick={() => onRetry(message)}>
          Retry
        </button>
      </p>
    );
  }
  const state =
    readers.length > 0
      ? `Read by ${readers.map((a) => nameOf(conversation, a)).join(", ")}`
      : message.outbox === "queued"
        ? "Sending…"
        : "Sent";
  return (
    <p class="delivery" data-state={readers.length > 0 ? "read" : (message.outbox ?? "sent")}>
      {state}
    </p>
  );
}

export function excerpt(message: Message): string {
  if (message.deleted) return "(deleted)";
  const text = messageText(message, 2000);
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

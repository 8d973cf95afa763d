// Compose: Enter sends, Shift+Enter starts a new line; files come from the picker, a drop or a paste.
import type { Attachment, Message } from "@sotto/api";
import { useEffect, useRef, useState } from "preact/hooks";
import { bytes, messageText, toAttachments } from "./content.js";
import { excerpt } from "./MessageItem.js";
import { ErrorLine } from "./useErrors.js";

/** The daemon's limit for a message's inline attachments in all. */
const MAX_ATTACHMENT_BYTES = 512 * 1024;

export interface ComposerProps {
  readonly replyTo: Message | undefined;
  readonly editing: Message | undefined;
  readonly files: readonly File[];
  readonly disabled: boolean;
  /** Set when sending here needs a confirmation (a member's device is not authenticated): what to say. */
  readonly warning?: string | undefined;
  readonly onFiles: (files: File[]) => void;
  readonly onCancel: () => void;
  readonly onSend: (text: string, attachments: Attachment[]) => Promise<void>;
}

export function Composer(props: ComposerProps) {
  const { replyTo, editing, files, disabled, warning, onFiles, onCancel, onSend } = props;
  const [text, setText] = useState("");
  const [error, setError] = useState<string | undefined>();
  // The warning is confirmed once per warning text: a new alert asks again.
  const [confirmed, setConfirmed] = useState<string | undefined>();
  const [asking, setAsking] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (editing) setText(messageText(editing));
    if (editing || replyTo) input.current?.focus();
  }, [editing, replyTo]);

  const size = files.reduce((sum, f) => sum + f.size, 0);
  const send = async (confirming = false) => {
    const body = text.trim();
    if (body === "" && files.length === 0) return;
    if (size > MAX_ATTACHMENT_BYTES) {
      setError(`Attachments hold ${bytes(size)}; at most ${bytes(MAX_ATTACHMENT_BYTES)} can be sent.`);
      return;
    }
    setError(undefined);
    if (warning !== undefined && confirmed !== warning && !confirming && !editing) {
      setAsking(true);
      return;
    }
    setAsking(false);
    try {
      await onSend(body === "" ? (files[0]?.name ?? "attachment") : body, await toAttachments(files));
      setText("");
    } catch (e) {
      setError(`Not sent: ${(e as Error).message}. Check the status bar, then try again.`);
    }
  };

  return (
    <form
      class="composer"
      aria-label="Compose"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      {replyTo || editing ? (
        <div class="context">
          <span>
            {editing ? "Editing your message" : "Replying to"}: {excerpt((editing ?? replyTo) as Message)}
          </span>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      ) : null}
      {files.length > 0 ? (
        <ul class="pending" aria-label="Files to send">
          {files.map((f, i) => (
            <li key={`${f.name}-${i}`}>
              {f.name || "pasted file"} ({bytes(f.size)}){" "}
              <button type="button" onClick={() => onFiles(files.filter((_, j) => j !== i))}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <ErrorLine error={error} />
      {asking && warning !== undefined ? (
        <div class="confirm warning" role="alertdialog" aria-label="Send anyway?">
          <p>{warning}</p>
          <button
            type="button"
            class="danger"
            onClick={() => {
              setConfirmed(warning);
              void send(true);
            }}
          >
            Send anyway
          </button>{" "}
          <button type="button" onClick={() => setAsking(false)}>
            Don't send
          </button>
        </div>
      ) : null}
      <div class="row">
        <button
          type="button"
          onClick={() => picker.current?.click()}
          disabled={disabled || editing !== undefined}
        >
          Attach
        </button>
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          aria-label="Attach files"
          onChange={(e) => {
            const picked = [...(e.currentTarget.files ?? [])];
            e.currentTarget.value = "";
            onFiles([...files, ...picked]);
          }}
        />
        <textarea
          ref={input}
          rows={2}
          aria-label="Message"
          placeholder="Message (Enter sends, Shift+Enter for a new line)"
          value={text}
          disabled={disabled}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void send();
            } else if (e.key === "Escape" && (replyTo || editing)) {
              onCancel();
            }
          }}
          onPaste={(e) => {
            const pasted = [...(e.clipboardData?.files ?? [])];
            if (pasted.length > 0) {
              e.preventDefault();
              onFiles([...files, ...pasted]);
            }
          }}
        />
        <button type="submit" disabled={disabled}>
          {editing ? "Save" : "Send"}
        </button>
      </div>
    </form>
  );
}

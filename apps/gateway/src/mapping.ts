// Chat <-> what the puppet's MLS device does and sees, pure. The device (sottod's engine) writes and reads the
// spec's application data; this decides which operation a chat is and which chat a change is:
//   message <-> Create{Note}              correction <-> Update{Note}       retraction <-> Delete
//   reactions (a full set) <-> Like / Undo{Like} per emoji                  displayed marker <-> Read
//   delivery receipt <- Acknowledge (the device sends no delivery receipts of its own)
// Text crosses as HTML on the Fediverse and plain text on XMPP (text.ts).
import { err, ok, type Result, textToHtml } from "@sotto/core";
import type { Chat, Link } from "./chat.js";
import { ActivityError, StanzaError } from "./errors.js";
import type { MediaFile } from "./media.js";
import { htmlToText } from "./text.js";

/** A message of a bridged conversation, by the id each side uses. */
export interface KnownMessage {
  readonly xmppId: string;
  /** The Note id (the device's message id). */
  readonly messageId: string;
  readonly author: "xmpp" | "fediverse";
}

/** What the XMPP user's puppet does on the Fediverse. */
export type Operation =
  /** `attachments` are the fetched files of the chat's links (the bridge adds them). */
  | { readonly op: "send"; readonly html: string; readonly attachments?: readonly MediaFile[] }
  | { readonly op: "edit"; readonly messageId: string; readonly html: string }
  | { readonly op: "delete"; readonly messageId: string }
  | { readonly op: "react"; readonly messageId: string; readonly emoji: string }
  | { readonly op: "unreact"; readonly messageId: string; readonly emoji: string }
  | { readonly op: "read"; readonly messageId: string };

export interface OperationContext {
  readonly byXmppId: (xmppId: string) => KnownMessage | undefined;
  /** The puppet's current reactions to a message (for `reactions`, which carries the full set). */
  readonly ownReactions: (messageId: string) => readonly string[];
}

function known(ctx: OperationContext, xmppId: string, mustOwn: boolean): Result<KnownMessage, StanzaError> {
  const m = ctx.byXmppId(xmppId);
  if (!m)
    return err(
      new StanzaError("unknown_recipient", "no such message in this conversation", "item-not-found"),
    );
  if (mustOwn && m.author !== "xmpp") {
    return err(new StanzaError("not_allowed", "only the author may change a message", "not-allowed"));
  }
  return ok(m);
}

/** XMPP -> Fediverse. An empty list = nothing to do (e.g. a delivery receipt). */
export function operationsForChat(
  chat: Chat,
  ctx: OperationContext,
): Result<readonly Operation[], StanzaError> {
  switch (chat.type) {
    case "message":
      return ok([{ op: "send", html: textToHtml(chat.text) }]);
    case "correction": {
      const m = known(ctx, chat.replaces, true);
      return m.ok ? ok([{ op: "edit", messageId: m.value.messageId, html: textToHtml(chat.text) }]) : m;
    }
    case "retraction": {
      const m = known(ctx, chat.retracts, true);
      return m.ok ? ok([{ op: "delete", messageId: m.value.messageId }]) : m;
    }
    case "reactions": {
      const m = known(ctx, chat.to, false);
      if (!m.ok) return m;
      const { messageId } = m.value;
      const before = ctx.ownReactions(messageId);
      return ok([
        ...chat.emojis
          .filter((e) => !before.includes(e))
          .map((emoji): Operation => ({ op: "react", messageId, emoji })),
        ...before
          .filter((e) => !chat.emojis.includes(e))
          .map((emoji): Operation => ({ op: "unreact", messageId, emoji })),
      ]);
    }
    case "receipt": {
      const m = known(ctx, chat.of, false);
      if (!m.ok) return m;
      return ok(chat.kind === "displayed" ? [{ op: "read", messageId: m.value.messageId }] : []);
    }
  }
}

/** What the puppet's device received from the Fediverse peer (already decrypted, sanitized and stored). */
export type FediverseChange =
  | {
      readonly kind: "message";
      readonly messageId: string;
      readonly content: string;
      readonly mediaType: string;
      /** Its inline files (their bytes stay in the puppet's store). */
      readonly attachments?: readonly {
        readonly mediaType: string;
        readonly name?: string;
        readonly size: number;
      }[];
    }
  | {
      readonly kind: "edit";
      readonly changeId: string;
      readonly messageId: string;
      readonly content: string;
      readonly mediaType: string;
    }
  | { readonly kind: "delete"; readonly changeId: string; readonly messageId: string }
  /** The peer's full set of reactions to the message after the change. */
  | {
      readonly kind: "reactions";
      readonly changeId: string;
      readonly messageId: string;
      readonly emojis: readonly string[];
    }
  | {
      readonly kind: "receipt";
      readonly changeId: string;
      readonly messageId: string;
      readonly receipt: "delivered" | "read";
    };

export interface ChangeContext {
  readonly byMessageId: (messageId: string) => KnownMessage | undefined;
  /** Where the gateway serves a message's inline file. */
  readonly fileUrl?: (messageId: string, index: number, name?: string) => string;
}

export interface Incoming {
  readonly chat: Chat;
  /** A new message to remember (its Note id doubles as its XMPP id). */
  readonly remember?: KnownMessage;
}

/** A Note's content as XMPP plain text. */
export function plainText(content: string, mediaType: string): string {
  return mediaType === "text/plain" ? content : htmlToText(content);
}

function peerMessage(
  ctx: ChangeContext,
  messageId: string,
  mustOwn: boolean,
): Result<KnownMessage, ActivityError> {
  const m = ctx.byMessageId(messageId);
  if (!m)
    return err(new ActivityError("unknown_object", "refers to a message this conversation does not know"));
  if (mustOwn && m.author !== "fediverse") {
    return err(new ActivityError("not_author", "only the author may change a message"));
  }
  return ok(m);
}

/** Fediverse -> XMPP. Errors are logged and skipped by the caller. */
export function chatForChange(change: FediverseChange, ctx: ChangeContext): Result<Incoming, ActivityError> {
  switch (change.kind) {
    case "message": {
      if (ctx.byMessageId(change.messageId)) return err(new ActivityError("duplicate", "already bridged"));
      const remember: KnownMessage = {
        xmppId: change.messageId,
        messageId: change.messageId,
        author: "fediverse",
      };
      const { fileUrl } = ctx;
      const links = fileUrl
        ? (change.attachments ?? []).map(
            (a, i): Link => ({ url: fileUrl(change.messageId, i, a.name), ...a }),
          )
        : [];
      const text = plainText(change.content, change.mediaType);
      return ok({
        chat: { type: "message", id: change.messageId, text, ...(links.length > 0 ? { links } : {}) },
        remember,
      });
    }
    case "edit": {
      const m = peerMessage(ctx, change.messageId, true);
      if (!m.ok) return m;
      const text = plainText(change.content, change.mediaType);
      return ok({ chat: { type: "correction", id: change.changeId, replaces: m.value.xmppId, text } });
    }
    case "delete": {
      const m = peerMessage(ctx, change.messageId, true);
      return m.ok ? ok({ chat: { type: "retraction", id: change.changeId, retracts: m.value.xmppId } }) : m;
    }
    case "reactions": {
      const m = peerMessage(ctx, change.messageId, false);
      return m.ok
        ? ok({ chat: { type: "reactions", id: change.changeId, to: m.value.xmppId, emojis: change.emojis } })
        : m;
    }
    case "receipt": {
      const m = peerMessage(ctx, change.messageId, false);
      if (!m.ok) return m;
      const kind = change.receipt === "read" ? "displayed" : "received";
      return ok({ chat: { type: "receipt", id: change.changeId, of: m.value.xmppId, kind } });
    }
  }
}

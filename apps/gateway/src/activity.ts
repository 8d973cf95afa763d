// Chat <-> the spec's application data (AS2 activities inside MLS messages), pure: every lookup of bridge
// state is passed in, and what the bridge must remember comes back in the result.
//   message <-> Create{Note}         correction <-> Update{Note}      retraction <-> Delete
//   reactions (a full set) <-> Like{content: emoji} / Undo{Like}    receipt received <-> Acknowledge
//   receipt displayed <-> Read
import { err, ok, type Result } from "@sotto/core";
import { z } from "zod";
import type { Chat } from "./chat.js";
import { ActivityError, StanzaError } from "./errors.js";
import { htmlToText, textToHtml } from "./text.js";

export type AppActivity = Readonly<Record<string, unknown>> & { readonly type: string; readonly id: string };

/** What the bridge knows about a message of the conversation, by the id either side uses. */
export interface KnownMessage {
  readonly xmppId: string;
  readonly noteId: string;
  /** Who wrote it: the XMPP user or the Fediverse peer. */
  readonly author: "xmpp" | "fediverse";
}

export interface OutgoingContext {
  /** The gateway actor standing for the XMPP user. */
  readonly actor: string;
  readonly newId: () => string;
  readonly byXmppId: (xmppId: string) => KnownMessage | undefined;
  /** The XMPP user's current reactions to a Note: emoji -> Like id. */
  readonly reactionsTo: (noteId: string) => ReadonlyMap<string, string>;
}

export interface Outgoing {
  readonly activities: readonly AppActivity[];
  /** A new message to remember (for `message`). */
  readonly remember?: KnownMessage;
  /** The XMPP user's reactions after this (for `reactions`): emoji -> Like id. */
  readonly reactions?: { readonly noteId: string; readonly byEmoji: ReadonlyMap<string, string> };
}

function known(ctx: OutgoingContext, xmppId: string, mustOwn: boolean): Result<KnownMessage, StanzaError> {
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

/** XMPP -> Fediverse. */
export function activitiesForChat(chat: Chat, ctx: OutgoingContext): Result<Outgoing, StanzaError> {
  const base = (type: string) => ({ type, id: ctx.newId(), actor: ctx.actor });
  switch (chat.type) {
    case "message": {
      const noteId = ctx.newId();
      const note = {
        type: "Note",
        id: noteId,
        attributedTo: ctx.actor,
        mediaType: "text/html",
        content: textToHtml(chat.text),
      };
      return ok({
        activities: [{ ...base("Create"), object: note }],
        remember: { xmppId: chat.id, noteId, author: "xmpp" },
      });
    }
    case "correction": {
      const m = known(ctx, chat.replaces, true);
      if (!m.ok) return m;
      const note = {
        type: "Note",
        id: m.value.noteId,
        attributedTo: ctx.actor,
        mediaType: "text/html",
        content: textToHtml(chat.text),
      };
      return ok({ activities: [{ ...base("Update"), object: note }] });
    }
    case "retraction": {
      const m = known(ctx, chat.retracts, true);
      if (!m.ok) return m;
      return ok({ activities: [{ ...base("Delete"), object: m.value.noteId }] });
    }
    case "reactions": {
      const m = known(ctx, chat.to, false);
      if (!m.ok) return m;
      const before = ctx.reactionsTo(m.value.noteId);
      const after = new Map<string, string>();
      const activities: AppActivity[] = [];
      for (const emoji of chat.emojis) {
        const kept = before.get(emoji);
        if (kept) {
          after.set(emoji, kept);
        } else {
          const like = { ...base("Like"), object: m.value.noteId, content: emoji };
          activities.push(like);
          after.set(emoji, like.id);
        }
      }
      for (const [emoji, likeId] of before) {
        if (!after.has(emoji)) activities.push({ ...base("Undo"), object: { type: "Like", id: likeId } });
      }
      return ok({ activities, reactions: { noteId: m.value.noteId, byEmoji: after } });
    }
    case "receipt": {
      const m = known(ctx, chat.of, false);
      if (!m.ok) return m;
      return ok({
        activities: [{ ...base(chat.kind === "received" ? "Acknowledge" : "Read"), object: m.value.noteId }],
      });
    }
  }
}

export interface IncomingContext {
  readonly byNoteId: (noteId: string) => KnownMessage | undefined;
  /** The peer's current reactions to a Note: emoji -> Like id. */
  readonly peerReactionsTo: (noteId: string) => ReadonlyMap<string, string>;
  /** Which Note and emoji a Like of the peer was about. */
  readonly peerLike: (likeId: string) => { readonly noteId: string; readonly emoji: string } | undefined;
}

export interface Incoming {
  readonly chat: Chat;
  readonly remember?: KnownMessage;
  readonly reactions?: { readonly noteId: string; readonly byEmoji: ReadonlyMap<string, string> };
}

const Id = z.string().min(1).max(2048);
const Ref = z.union([Id, z.looseObject({ id: Id })]).transform((r) => (typeof r === "string" ? r : r.id));
const Note = z.looseObject({
  id: Id,
  content: z
    .string()
    .max(256 * 1024)
    .optional(),
  name: z.string().max(2048).optional(),
});
const Type = z.union([z.string(), z.array(z.string()).min(1)]).transform((t) => (Array.isArray(t) ? t : [t]));
const Base = z.looseObject({ type: Type, id: Id });

function noteText(note: z.infer<typeof Note>): string {
  return htmlToText(note.content ?? note.name ?? "");
}

function peerMessage(
  ctx: IncomingContext,
  noteId: string,
  mustOwn: boolean,
): Result<KnownMessage, ActivityError> {
  const m = ctx.byNoteId(noteId);
  if (!m)
    return err(new ActivityError("unknown_object", "refers to a message this conversation does not know"));
  if (mustOwn && m.author !== "fediverse")
    return err(new ActivityError("not_author", "only the author may change a message"));
  return ok(m);
}

/**
 * Fediverse -> XMPP. `ok(undefined)` = valid but nothing to show on XMPP (e.g. Announce, View); errors are
 * logged and skipped by the caller.
 */
export function chatForActivity(
  json: unknown,
  ctx: IncomingContext,
): Result<Incoming | undefined, ActivityError> {
  const base = Base.safeParse(json);
  if (!base.success) return err(new ActivityError("malformed", "not an activity"));
  const { id } = base.data;
  const types = base.data.type.map((t) => t.replace(/^as:/, ""));
  const is = (t: string) => types.includes(t);
  const parse = <S extends z.ZodType>(schema: S): Result<z.infer<S>, ActivityError> => {
    const r = schema.safeParse(json);
    return r.success ? ok(r.data) : err(new ActivityError("malformed", `malformed ${types.join("/")}`));
  };

  if (is("Create")) {
    const a = parse(z.looseObject({ object: Note }));
    if (!a.ok) return a;
    const noteId = a.value.object.id;
    if (ctx.byNoteId(noteId)) return err(new ActivityError("duplicate", "this message was already bridged"));
    const remember: KnownMessage = { xmppId: noteId, noteId, author: "fediverse" };
    return ok({ chat: { type: "message", id: noteId, text: noteText(a.value.object) }, remember });
  }
  if (is("Update")) {
    const a = parse(z.looseObject({ object: Note }));
    if (!a.ok) return a;
    const m = peerMessage(ctx, a.value.object.id, true);
    if (!m.ok) return m;
    return ok({ chat: { type: "correction", id, replaces: m.value.xmppId, text: noteText(a.value.object) } });
  }
  if (is("Delete")) {
    const a = parse(z.looseObject({ object: Ref }));
    if (!a.ok) return a;
    const m = peerMessage(ctx, a.value.object, true);
    if (!m.ok) return m;
    return ok({ chat: { type: "retraction", id, retracts: m.value.xmppId } });
  }
  if (is("Like")) {
    const a = parse(z.looseObject({ object: Ref, content: z.string().min(1).max(64).optional() }));
    if (!a.ok) return a;
    const m = peerMessage(ctx, a.value.object, false);
    if (!m.ok) return m;
    const byEmoji = new Map(ctx.peerReactionsTo(m.value.noteId));
    byEmoji.set(a.value.content ?? "❤️", id); // a Like without content is a plain like
    return ok({
      chat: { type: "reactions", id, to: m.value.xmppId, emojis: [...byEmoji.keys()] },
      reactions: { noteId: m.value.noteId, byEmoji },
    });
  }
  if (is("Undo")) {
    const a = parse(z.looseObject({ object: Ref }));
    if (!a.ok) return a;
    const like = ctx.peerLike(a.value.object);
    if (!like) return ok(undefined); // undoing something that never reached XMPP (e.g. an Announce)
    const m = peerMessage(ctx, like.noteId, false);
    if (!m.ok) return m;
    const byEmoji = new Map(
      [...ctx.peerReactionsTo(like.noteId)].filter(([, likeId]) => likeId !== a.value.object),
    );
    return ok({
      chat: { type: "reactions", id, to: m.value.xmppId, emojis: [...byEmoji.keys()] },
      reactions: { noteId: like.noteId, byEmoji },
    });
  }
  if (is("Acknowledge") || is("Read")) {
    const a = parse(z.looseObject({ object: Ref }));
    if (!a.ok) return a;
    const m = ctx.byNoteId(a.value.object);
    if (!m) return err(new ActivityError("unknown_object", "receipt for an unknown message"));
    return ok({ chat: { type: "receipt", id, of: m.xmppId, kind: is("Read") ? "displayed" : "received" } });
  }
  return ok(undefined);
}

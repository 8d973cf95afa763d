import { describe, expect, it } from "vitest";
import {
  activitiesForChat,
  chatForActivity,
  type IncomingContext,
  type KnownMessage,
  type OutgoingContext,
} from "./activity.js";

const ACTOR = "https://gw.example/users/alice";
function ids() {
  let n = 0;
  return () => `urn:uuid:00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`;
}
const mine: KnownMessage = { xmppId: "x1", noteId: "urn:uuid:note-x1", author: "xmpp" };
const theirs: KnownMessage = { xmppId: "urn:uuid:note-b1", noteId: "urn:uuid:note-b1", author: "fediverse" };
const known = [mine, theirs];

function outgoing(reactions: ReadonlyMap<string, string> = new Map()): OutgoingContext {
  return {
    actor: ACTOR,
    newId: ids(),
    byXmppId: (id) => known.find((m) => m.xmppId === id),
    reactionsTo: () => reactions,
  };
}

describe("XMPP -> Fediverse", () => {
  it("turns a body into Create{Note} with escaped HTML and remembers the id pair", () => {
    const r = activitiesForChat({ type: "message", id: "x9", text: "a <b>\nc" }, outgoing());
    if (!r.ok) throw r.error;
    const [create] = r.value.activities;
    expect(create).toMatchObject({
      type: "Create",
      actor: ACTOR,
      object: { type: "Note", content: "<p>a &lt;b&gt;<br>c</p>" },
    });
    const noteId = (create?.object as { id?: string } | undefined)?.id;
    expect(noteId).toMatch(/^urn:uuid:/);
    expect(r.value.remember).toEqual({ xmppId: "x9", noteId, author: "xmpp" });
  });

  it("maps a correction to Update of the same Note, a retraction to Delete", () => {
    const u = activitiesForChat({ type: "correction", id: "x2", replaces: "x1", text: "fixed" }, outgoing());
    expect(u.ok && u.value.activities[0]).toMatchObject({
      type: "Update",
      object: { id: mine.noteId, content: "<p>fixed</p>" },
    });
    const d = activitiesForChat({ type: "retraction", id: "x3", retracts: "x1" }, outgoing());
    expect(d.ok && d.value.activities[0]).toMatchObject({ type: "Delete", object: mine.noteId });
  });

  it("lets only the author correct or retract, and only known messages", () => {
    const other = activitiesForChat(
      { type: "correction", id: "x2", replaces: theirs.xmppId, text: "mine now" },
      outgoing(),
    );
    expect(other.ok || other.error.condition).toBe("not-allowed");
    const unknown = activitiesForChat({ type: "retraction", id: "x3", retracts: "nope" }, outgoing());
    expect(unknown.ok || unknown.error.condition).toBe("item-not-found");
  });

  it("turns a reaction set into Likes for new emoji and Undo for dropped ones", () => {
    const before = new Map([
      ["👍", "urn:uuid:like-1"],
      ["😂", "urn:uuid:like-2"],
    ]);
    const r = activitiesForChat(
      { type: "reactions", id: "x4", to: theirs.xmppId, emojis: ["👍", "🎉"] },
      outgoing(before),
    );
    if (!r.ok) throw r.error;
    expect(r.value.activities).toEqual([
      expect.objectContaining({ type: "Like", object: theirs.noteId, content: "🎉" }),
      expect.objectContaining({ type: "Undo", object: { type: "Like", id: "urn:uuid:like-2" } }),
    ]);
    expect([...(r.value.reactions?.byEmoji.keys() ?? [])]).toEqual(["👍", "🎉"]);
    expect(r.value.reactions?.byEmoji.get("👍")).toBe("urn:uuid:like-1");
  });

  it("maps a delivery receipt to Acknowledge and a displayed marker to Read", () => {
    const a = activitiesForChat(
      { type: "receipt", id: "x5", of: theirs.xmppId, kind: "received" },
      outgoing(),
    );
    expect(a.ok && a.value.activities[0]).toMatchObject({ type: "Acknowledge", object: theirs.noteId });
    const r = activitiesForChat(
      { type: "receipt", id: "x6", of: theirs.xmppId, kind: "displayed" },
      outgoing(),
    );
    expect(r.ok && r.value.activities[0]).toMatchObject({ type: "Read", object: theirs.noteId });
  });
});

function incoming(reactions = new Map<string, string>()): IncomingContext {
  return {
    byNoteId: (id) => known.find((m) => m.noteId === id),
    peerReactionsTo: () => reactions,
    peerLike: (likeId) =>
      [...reactions].find(([, id]) => id === likeId) ? { noteId: mine.noteId, emoji: "👍" } : undefined,
  };
}

describe("Fediverse -> XMPP", () => {
  it("turns Create{Note} into a plain-text message with the Note id as XMPP id", () => {
    const r = chatForActivity(
      {
        type: "Create",
        id: "urn:uuid:c",
        object: {
          type: "Note",
          id: "urn:uuid:n2",
          content: "<p>Hi <b>there</b> &amp; <script>x()</script></p>",
        },
      },
      incoming(),
    );
    expect(r.ok && r.value).toEqual({
      chat: { type: "message", id: "urn:uuid:n2", text: "Hi there &" },
      remember: { xmppId: "urn:uuid:n2", noteId: "urn:uuid:n2", author: "fediverse" },
    });
  });

  it("maps Update and Delete of the peer's own Note to a correction and a retraction", () => {
    const u = chatForActivity(
      {
        type: "Update",
        id: "urn:uuid:u",
        object: { type: "Note", id: theirs.noteId, content: "<p>edited</p>" },
      },
      incoming(),
    );
    expect(u.ok && u.value?.chat).toEqual({
      type: "correction",
      id: "urn:uuid:u",
      replaces: theirs.xmppId,
      text: "edited",
    });
    const d = chatForActivity(
      { type: "Delete", id: "urn:uuid:d", object: { id: theirs.noteId } },
      incoming(),
    );
    expect(d.ok && d.value?.chat).toEqual({ type: "retraction", id: "urn:uuid:d", retracts: theirs.xmppId });
  });

  it("refuses Update or Delete of someone else's message, and unknown or malformed activities", () => {
    const u = chatForActivity(
      { type: "Update", id: "urn:uuid:u", object: { type: "Note", id: mine.noteId, content: "x" } },
      incoming(),
    );
    expect(u.ok || u.error.code).toBe("not_author");
    const d = chatForActivity({ type: "Delete", id: "urn:uuid:d", object: "urn:uuid:unknown" }, incoming());
    expect(d.ok || d.error.code).toBe("unknown_object");
    const m = chatForActivity({ type: "Create", object: {} }, incoming());
    expect(m.ok || m.error.code).toBe("malformed");
    const dup = chatForActivity(
      { type: "Create", id: "urn:uuid:c", object: { type: "Note", id: theirs.noteId, content: "again" } },
      incoming(),
    );
    expect(dup.ok || dup.error.code).toBe("duplicate");
    const other = chatForActivity({ type: "Announce", id: "urn:uuid:a", object: theirs.noteId }, incoming());
    expect(other).toEqual({ ok: true, value: undefined });
  });

  it("keeps the peer's reaction set across Like and Undo{Like}", () => {
    const like = chatForActivity(
      { type: "Like", id: "urn:uuid:l1", object: mine.noteId, content: "👍" },
      incoming(),
    );
    if (!like.ok || !like.value) throw new Error("no like");
    expect(like.value.chat).toEqual({
      type: "reactions",
      id: "urn:uuid:l1",
      to: mine.xmppId,
      emojis: ["👍"],
    });
    const state = new Map(like.value.reactions?.byEmoji);
    const undo = chatForActivity(
      { type: "Undo", id: "urn:uuid:u1", object: { type: "Like", id: "urn:uuid:l1" } },
      incoming(state),
    );
    expect(undo.ok && undo.value?.chat).toEqual({
      type: "reactions",
      id: "urn:uuid:u1",
      to: mine.xmppId,
      emojis: [],
    });
  });

  it("maps Acknowledge to a delivery receipt and Read to a displayed marker", () => {
    const a = chatForActivity({ type: "Acknowledge", id: "urn:uuid:a", object: mine.noteId }, incoming());
    expect(a.ok && a.value?.chat).toEqual({
      type: "receipt",
      id: "urn:uuid:a",
      of: mine.xmppId,
      kind: "received",
    });
    const r = chatForActivity({ type: ["Read"], id: "urn:uuid:r", object: { id: mine.noteId } }, incoming());
    expect(r.ok && r.value?.chat).toEqual({
      type: "receipt",
      id: "urn:uuid:r",
      of: mine.xmppId,
      kind: "displayed",
    });
  });
});

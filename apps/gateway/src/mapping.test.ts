import { describe, expect, it } from "vitest";
import { chatForChange, type KnownMessage, type OperationContext, operationsForChat } from "./mapping.js";

const mine: KnownMessage = { xmppId: "x1", messageId: "urn:uuid:n1", author: "xmpp" };
const theirs: KnownMessage = { xmppId: "urn:uuid:b1", messageId: "urn:uuid:b1", author: "fediverse" };
const known = [mine, theirs];
const ctx = (own: readonly string[] = []): OperationContext => ({
  byXmppId: (id) => known.find((m) => m.xmppId === id),
  ownReactions: () => own,
});
const byMessageId = (id: string) => known.find((m) => m.messageId === id);

describe("XMPP -> Fediverse", () => {
  it("sends a body as escaped HTML (Create{Note})", () => {
    expect(operationsForChat({ type: "message", id: "x9", text: "a <b>\nc" }, ctx())).toEqual({
      ok: true,
      value: [{ op: "send", html: "a &lt;b&gt;<br>c" }],
    });
  });

  it("maps a correction to an edit (Update) and a retraction to a delete of the same Note", () => {
    const edit = operationsForChat({ type: "correction", id: "x2", replaces: "x1", text: "fixed" }, ctx());
    expect(edit.ok && edit.value).toEqual([{ op: "edit", messageId: mine.messageId, html: "fixed" }]);
    const del = operationsForChat({ type: "retraction", id: "x3", retracts: "x1" }, ctx());
    expect(del.ok && del.value).toEqual([{ op: "delete", messageId: mine.messageId }]);
  });

  it("lets only the author correct or retract, and only known messages", () => {
    const other = operationsForChat(
      { type: "correction", id: "x2", replaces: theirs.xmppId, text: "mine now" },
      ctx(),
    );
    expect(other.ok || other.error.condition).toBe("not-allowed");
    const unknown = operationsForChat({ type: "retraction", id: "x3", retracts: "nope" }, ctx());
    expect(unknown.ok || unknown.error.condition).toBe("item-not-found");
  });

  it("turns a full reaction set into Like for new emoji and Undo for dropped ones", () => {
    const r = operationsForChat(
      { type: "reactions", id: "x4", to: theirs.xmppId, emojis: ["👍", "🎉"] },
      ctx(["👍", "😂"]),
    );
    expect(r.ok && r.value).toEqual([
      { op: "react", messageId: theirs.messageId, emoji: "🎉" },
      { op: "unreact", messageId: theirs.messageId, emoji: "😂" },
    ]);
    const none = operationsForChat(
      { type: "reactions", id: "x5", to: theirs.xmppId, emojis: [] },
      ctx(["👍"]),
    );
    expect(none.ok && none.value).toEqual([{ op: "unreact", messageId: theirs.messageId, emoji: "👍" }]);
  });

  it("maps a displayed marker to Read; a delivery receipt needs nothing", () => {
    const read = operationsForChat(
      { type: "receipt", id: "x6", of: theirs.xmppId, kind: "displayed" },
      ctx(),
    );
    expect(read.ok && read.value).toEqual([{ op: "read", messageId: theirs.messageId }]);
    const received = operationsForChat(
      { type: "receipt", id: "x7", of: theirs.xmppId, kind: "received" },
      ctx(),
    );
    expect(received).toEqual({ ok: true, value: [] });
  });
});

describe("Fediverse -> XMPP", () => {
  it("turns a new Note into plain text whose XMPP id is the Note id", () => {
    const r = chatForChange(
      {
        kind: "message",
        messageId: "urn:uuid:n2",
        content: "<p>Hi <b>there</b> &amp; <script>x()</script></p>",
        mediaType: "text/html",
      },
      { byMessageId },
    );
    expect(r.ok && r.value).toEqual({
      chat: { type: "message", id: "urn:uuid:n2", text: "Hi there &" },
      remember: { xmppId: "urn:uuid:n2", messageId: "urn:uuid:n2", author: "fediverse" },
    });
    const p = chatForChange(
      { kind: "message", messageId: "urn:uuid:n3", content: "a <b>", mediaType: "text/plain" },
      { byMessageId },
    );
    expect(p.ok && p.value.chat).toMatchObject({ text: "a <b>" });
  });

  it("maps the peer's edit and delete to a correction and a retraction", () => {
    const e = chatForChange(
      {
        kind: "edit",
        changeId: "urn:uuid:u",
        messageId: theirs.messageId,
        content: "<p>edited</p>",
        mediaType: "text/html",
      },
      { byMessageId },
    );
    expect(e.ok && e.value.chat).toEqual({
      type: "correction",
      id: "urn:uuid:u",
      replaces: theirs.xmppId,
      text: "edited",
    });
    const d = chatForChange(
      { kind: "delete", changeId: "urn:uuid:d", messageId: theirs.messageId },
      { byMessageId },
    );
    expect(d.ok && d.value.chat).toEqual({ type: "retraction", id: "urn:uuid:d", retracts: theirs.xmppId });
  });

  it("refuses changes to someone else's message, unknown messages and duplicates", () => {
    const e = chatForChange(
      { kind: "delete", changeId: "urn:uuid:d", messageId: mine.messageId },
      { byMessageId },
    );
    expect(e.ok || e.error.code).toBe("not_author");
    const u = chatForChange(
      { kind: "receipt", changeId: "urn:uuid:r", messageId: "urn:uuid:zz", receipt: "read" },
      { byMessageId },
    );
    expect(u.ok || u.error.code).toBe("unknown_object");
    const dup = chatForChange(
      { kind: "message", messageId: theirs.messageId, content: "again", mediaType: "text/html" },
      { byMessageId },
    );
    expect(dup.ok || dup.error.code).toBe("duplicate");
  });

  it("maps reactions to the XMPP user's message and receipts to XEP-0184 / XEP-0333", () => {
    const r = chatForChange(
      { kind: "reactions", changeId: "urn:uuid:l", messageId: mine.messageId, emojis: ["❤️"] },
      { byMessageId },
    );
    expect(r.ok && r.value.chat).toEqual({ type: "reactions", id: "urn:uuid:l", to: "x1", emojis: ["❤️"] });
    const read = chatForChange(
      { kind: "receipt", changeId: "urn:uuid:r", messageId: mine.messageId, receipt: "read" },
      { byMessageId },
    );
    expect(read.ok && read.value.chat).toEqual({
      type: "receipt",
      id: "urn:uuid:r",
      of: "x1",
      kind: "displayed",
    });
    const ack = chatForChange(
      { kind: "receipt", changeId: "urn:uuid:a", messageId: mine.messageId, receipt: "delivered" },
      { byMessageId },
    );
    expect(ack.ok && ack.value.chat).toEqual({
      type: "receipt",
      id: "urn:uuid:a",
      of: "x1",
      kind: "received",
    });
  });
});

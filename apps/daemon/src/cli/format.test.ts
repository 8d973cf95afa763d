// The human output's markers for what the API reports beside the text: changed keys and attachments.
import type { Conversation, Message } from "@sotto/api";
import { describe, expect, it } from "vitest";
import {
  authenticationWarning,
  formatAlerts,
  formatChats,
  formatConversation,
  formatMessage,
} from "./format.js";

const alice = "https://a.example/users/alice";
const bob = "https://b.example/users/bob";
const conversation: Conversation = {
  id: "urn:uuid:11111111-0000-4000-8000-000000000000",
  title: null,
  members: [
    { actorId: alice, handle: "@alice@a.example", displayName: null },
    { actorId: bob, handle: "@bob@b.example", displayName: null },
  ],
  createdAt: "2026-01-01T00:00:00Z",
  lastActivityAt: "2026-01-01T00:00:00Z",
  lastMessageId: null,
  unread: 0,
  epoch: 1,
  left: false,
};

describe("format", () => {
  it("marks a chat whose members' keys changed, and only that one", () => {
    const out = formatChats([{ ...conversation, keyChanged: true }, conversation], alice).split("\n");
    expect(out[0]).toMatch(/^11111111 {2}@bob@b\.example \[keys changed: sotto verify\] {2}\S/);
    expect(out[1]).toMatch(/^11111111 {2}@bob@b\.example {2}\S/);
  });

  it("says when a device could not be authenticated, and lists the conversation's alerts", () => {
    expect(
      authenticationWarning({ ...conversation, authentication: "authenticated" }, alice),
    ).toBeUndefined();
    expect(authenticationWarning(conversation, alice)).toBeUndefined();
    expect(authenticationWarning({ ...conversation, authentication: "uncheckable" }, alice)).toContain(
      'a device in "@bob@b.example" could not be authenticated',
    );
    const forged: Conversation = {
      ...conversation,
      authentication: "contradicted",
      alerts: [
        { kind: "member_contradicted", actorId: bob, at: "2026-01-02T00:00:00Z" },
        { kind: "welcome_refused", actorId: null, at: "2026-01-03T00:00:00Z" },
      ],
    };
    const lines = formatAlerts(forged, alice);
    expect(lines[0]).toMatch(/^warning: a device in "@bob@b\.example" is not one its account publishes/);
    expect(lines[1]).toBe("alerts:");
    expect(lines[2]).toMatch(/\] a device of @bob@b\.example is not one its account publishes$/);
    expect(lines[3]).toMatch(
      /\] an invitation that would have replaced this conversation was refused \(sent by someone\)$/,
    );
    expect(formatChats([forged], alice)).toMatch(/@bob@b\.example \[FORGED DEVICE\?\] \[2 alerts\]/);
    expect(formatConversation(forged, alice).split("\n").slice(-4)).toEqual(lines);
    expect(formatAlerts(conversation, alice)).toEqual([]);
  });

  it("names a message's attachments", () => {
    const message: Message = {
      id: "urn:uuid:22222222-0000-4000-8000-000000000000",
      conversationId: conversation.id,
      author: bob,
      type: "Note",
      content: "see",
      mediaType: "text/plain",
      inReplyTo: null,
      published: "2026-01-01T00:00:00Z",
      editedAt: null,
      deleted: false,
      attachments: [
        { mediaType: "image/png", name: "dot.png", data: "iVBORw==" },
        { mediaType: "text/plain", data: "" },
      ],
      reactions: [],
      readBy: [],
      outbox: null,
    };
    expect(formatMessage(message, conversation)).toMatch(
      /^22222222 \[.*\] @bob@b\.example: see \[dot\.png, image\/png\] \[attachment, text\/plain\]$/,
    );
  });

  it("says when the daemon cut a message too long to keep whole", () => {
    const message: Message = {
      id: "urn:uuid:33333333-0000-4000-8000-000000000000",
      conversationId: conversation.id,
      author: bob,
      type: "Note",
      content: "x".repeat(100_000),
      mediaType: "text/plain",
      inReplyTo: null,
      published: "2026-01-01T00:00:00Z",
      editedAt: null,
      deleted: false,
      truncatedFrom: 2_000_000,
      reactions: [],
      readBy: [],
      outbox: null,
    };
    expect(formatMessage(message, conversation)).toMatch(
      /x \(cut by your daemon: the sender's message was 2000000 characters long\)$/,
    );
    expect(formatMessage({ ...message, truncatedFrom: undefined }, conversation)).not.toMatch(/cut by/);
  });
});

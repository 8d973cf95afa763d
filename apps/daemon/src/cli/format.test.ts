// The human output's markers for what the API reports beside the text: changed keys and attachments.
import type { Conversation, Message } from "@sotto/api";
import { describe, expect, it } from "vitest";
import { formatChats, formatMessage } from "./format.js";

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
});

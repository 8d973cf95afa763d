import { describe, expect, it } from "vitest";
import { API_ERRORS, ApiError } from "./errors.js";
import { ApiEvent, EVENT_TYPES, EventBody } from "./events.js";
import { METHOD_NAMES, methods } from "./methods.js";
import { Conversation } from "./model.js";

const conversationId = "urn:uuid:4f0e3a4e-6d7b-4c1e-9a51-0b1b0c7e2a10";
const messageId = "urn:uuid:9b2d7c1e-3a4f-4e5d-8c6b-7a8f9e0d1c2b";

describe("events", () => {
  it("parses every event type with a seq and refuses one without", () => {
    expect(EVENT_TYPES).toEqual([
      "message.created",
      "message.updated",
      "message.deleted",
      "reactions.changed",
      "conversation.created",
      "conversation.updated",
      "conversation.members_changed",
      "conversation.out_of_step",
      "receipt",
      "contact.key_changed",
      "conversation.security_alert",
      "devices.changed",
      "sync.state",
      "outbox.state",
      "gap",
    ]);
    const event = { seq: 7, type: "message.created", conversationId, messageId };
    expect(ApiEvent.parse(event)).toEqual(event);
    expect(ApiEvent.safeParse({ type: "message.created", conversationId, messageId }).success).toBe(false);
    expect(ApiEvent.safeParse({ seq: -1, type: "message.created", conversationId, messageId }).success).toBe(
      false,
    );
  });

  it("gives the daemon bodies without seq, and keeps gap for the server", () => {
    const body = { type: "outbox.state", conversationId, messageId, state: "sent", error: null };
    expect(EventBody.parse(body)).toEqual(body);
    expect(EventBody.safeParse({ type: "gap", from: 1, to: 5 }).success).toBe(false);
    expect(ApiEvent.parse({ seq: 5, type: "gap", from: 1, to: 5 }).type).toBe("gap");
  });
});

describe("methods", () => {
  it("declares every method the issue asks for", () => {
    for (const name of [
      "status",
      "account.get",
      "conversations.list",
      "conversations.get",
      "conversations.create",
      "conversations.addMembers",
      "conversations.removeMembers",
      "conversations.leave",
      "conversations.markRead",
      "messages.list",
      "messages.get",
      "messages.send",
      "messages.edit",
      "messages.delete",
      "messages.react",
      "messages.unreact",
      "contacts.list",
      "contacts.get",
      "contacts.verify",
      "contacts.unverify",
      "devices.list",
      "sync.now",
      "events.subscribe",
      "events.unsubscribe",
    ]) {
      expect(METHOD_NAMES).toContain(name);
    }
  });

  it("refuses unknown param keys and applies defaults", () => {
    const list = methods["messages.list"].params;
    expect(list.parse({ conversationId })).toEqual({ conversationId, limit: 50 });
    const typo = list.safeParse({ conversationId, limt: 5 });
    expect(typo.success).toBe(false);
    expect(typo.error?.issues[0]?.code).toBe("unrecognized_keys");
  });

  it("only names declared error codes", () => {
    for (const spec of Object.values(methods)) {
      for (const code of spec.errors) expect(Object.keys(API_ERRORS)).toContain(code);
    }
  });
});

describe("ApiError", () => {
  it("round-trips through its JSON-RPC form", () => {
    const error = new ApiError("rate_limited", "Slow down", { retryAfterMs: 250 });
    const wire = JSON.parse(JSON.stringify(error.toJSON()));
    expect(wire).toEqual({
      code: -32002,
      message: "Slow down",
      data: { code: "rate_limited", retryAfterMs: 250 },
    });
    const back = ApiError.fromRpc(wire);
    expect(back).toBeInstanceOf(ApiError);
    expect(back.code).toBe("rate_limited");
    expect(back.rpcCode).toBe(-32002);
    expect(back.data.retryAfterMs).toBe(250);
  });

  it("reads an unreadable error as internal_error", () => {
    expect(ApiError.fromRpc({ code: "x" }).code).toBe("internal_error");
  });

  it("uses distinct numbers for distinct codes", () => {
    const numbers = Object.values(API_ERRORS).map((e) => e.rpc);
    expect(new Set(numbers).size).toBe(numbers.length);
  });
});

describe("Conversation", () => {
  const conversation = {
    id: conversationId,
    title: null,
    members: [{ actorId: "https://a.example/users/alice", handle: "@alice@a.example", displayName: null }],
    createdAt: "2026-01-01T00:00:00Z",
    lastActivityAt: "2026-01-01T00:00:00Z",
    lastMessageId: null,
    unread: 0,
    epoch: 1,
    left: false,
  };

  it("carries keyChanged when the daemon gives it, and parses without it", () => {
    expect(Conversation.parse({ ...conversation, keyChanged: true }).keyChanged).toBe(true);
    expect(Conversation.parse(conversation).keyChanged).toBeUndefined();
    expect(Conversation.safeParse({ ...conversation, keyChanged: "yes" }).success).toBe(false);
  });
});

describe("messages.send", () => {
  const params = { conversationId, text: "see the file" };
  const png = {
    mediaType: "image/png",
    name: "dot.png",
    data: Buffer.from([137, 80, 78, 71]).toString("base64"),
  };

  it("takes mediaType and base64 attachments, and refuses what is not base64 or too large", () => {
    const send = methods["messages.send"].params;
    expect(send.parse({ ...params, mediaType: "text/html", attachments: [png] })).toEqual({
      ...params,
      mediaType: "text/html",
      attachments: [png],
    });
    expect(send.safeParse({ ...params, mediaType: "image/png" }).success).toBe(false);
    expect(send.safeParse({ ...params, attachments: [{ ...png, data: "not base64!" }] }).success).toBe(false);
    expect(send.safeParse({ ...params, attachments: [{ ...png, extra: 1 }] }).success).toBe(false);
    const big = Buffer.alloc(513 * 1024).toString("base64");
    expect(send.safeParse({ ...params, attachments: [{ ...png, data: big }] }).success).toBe(false);
    expect(send.safeParse({ ...params, attachments: Array.from({ length: 17 }, () => png) }).success).toBe(
      false,
    );
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "./daemon.js";
import { joined, messageOf, startCast, until, useWorld } from "./testing/world.js";

// Two real sotto-servers on loopback and real daemons with real encrypted stores: a 1:1 conversation across
// the two servers with replies, edits, deletes, reactions and read receipts.
describe("1:1 conversation across two servers", () => {
  const world = useWorld();
  let alice: Daemon;
  let bob: Daemon;
  let conversationId: string;

  beforeAll(async () => {
    [alice, bob] = (await startCast(world(), ["alice", "bob"])).daemons;
  });

  it("delivers a message from Alice to Bob, who replies", async () => {
    const conversation = await alice.createConversation({ members: [bob.actorId], title: "hi" });
    conversationId = conversation.id;
    expect(conversation.members.map((m) => m.actorId).sort()).toEqual([alice.actorId, bob.actorId].sort());
    await joined(bob, conversationId, "bob");

    const sent = await alice.sendMessage({ conversationId, text: "Hello, <Bob>!" });
    expect(sent.outbox).toBe("queued");
    const received = await until("bob has the message", () => messageOf(bob, conversationId, sent.id));
    expect(received.content).toBe("Hello, &lt;Bob&gt;!");
    expect(received.author).toBe(alice.actorId);
    expect(bob.getConversation(conversationId).unread).toBe(1);
    await until("alice's message sent", () => alice.getMessage(conversationId, sent.id).outbox === "sent");

    const reply = await bob.sendMessage({ conversationId, text: "Hi Alice", inReplyTo: sent.id });
    const back = await until("alice has the reply", () => messageOf(alice, conversationId, reply.id));
    expect(back.content).toBe("Hi Alice");
    expect(back.inReplyTo).toBe(sent.id);
  });

  it("applies edits, reactions, unreactions and deletes from the author", async () => {
    const sent = await alice.sendMessage({ conversationId, text: "frist" });
    await until("bob has it", () => messageOf(bob, conversationId, sent.id));

    await alice.editMessage({ conversationId, messageId: sent.id, text: "first" });
    const edited = await until("bob sees the edit", () => {
      const m = messageOf(bob, conversationId, sent.id);
      return m?.content === "first" ? m : undefined;
    });
    expect(edited.editedAt).not.toBeNull();
    // The sender's own copy changes as the receivers' do (one effect for both sides).
    expect(messageOf(alice, conversationId, sent.id)).toMatchObject({
      content: "first",
      editedAt: expect.any(String),
    });

    await bob.react({ conversationId, messageId: sent.id, emoji: "👍" });
    expect(messageOf(bob, conversationId, sent.id)?.reactions).toEqual([
      { emoji: "👍", actors: [bob.actorId] },
    ]);
    const reacted = await until("alice sees the reaction", () => {
      const m = messageOf(alice, conversationId, sent.id);
      return m?.reactions.length ? m : undefined;
    });
    expect(reacted.reactions).toEqual([{ emoji: "👍", actors: [bob.actorId] }]);

    await bob.unreact({ conversationId, messageId: sent.id, emoji: "👍" });
    expect(messageOf(bob, conversationId, sent.id)?.reactions).toEqual([]);
    await until(
      "alice sees the reaction go",
      () => messageOf(alice, conversationId, sent.id)?.reactions.length === 0,
    );

    // Bob may not edit or delete Alice's message.
    await expect(
      bob.editMessage({ conversationId, messageId: sent.id, text: "mine now" }),
    ).rejects.toMatchObject({
      code: "not_author",
    });

    await alice.deleteMessage({ conversationId, messageId: sent.id });
    expect(messageOf(alice, conversationId, sent.id)).toMatchObject({ deleted: true, content: "" });
    const deleted = await until("bob sees the delete", () => {
      const m = messageOf(bob, conversationId, sent.id);
      return m?.deleted ? m : undefined;
    });
    expect(deleted.content).toBe("");
  });

  it("sends read receipts", async () => {
    const sent = await alice.sendMessage({ conversationId, text: "did you read this?" });
    await until("bob has it", () => messageOf(bob, conversationId, sent.id));
    await bob.markRead({ conversationId });
    expect(bob.getConversation(conversationId).unread).toBe(0);
    await until("alice sees bob read it", () =>
      messageOf(alice, conversationId, sent.id)?.readBy.includes(bob.actorId),
    );
  });

  it("refuses attachments over the limit with a typed error, and sends one within it", async () => {
    await expect(
      alice.sendMessage({
        conversationId,
        text: "big",
        attachments: [{ mediaType: "image/png", data: new Uint8Array(600 * 1024) }],
      }),
    ).rejects.toMatchObject({ code: "invalid_params" });
    const small = await alice.sendMessage({
      conversationId,
      text: "small",
      attachments: [{ mediaType: "image/png", name: "dot.png", data: new Uint8Array([137, 80, 78, 71]) }],
    });
    await until("bob has the attachment", () => messageOf(bob, conversationId, small.id));
  });

  it("answers bad requests with the API's typed errors", async () => {
    const host = new URL(bob.actorId).host;
    await expect(alice.createConversation({ members: [`@nobody@${host}`] })).rejects.toMatchObject({
      code: "actor_not_found",
    });
    // An actor that publishes no KeyPackage has no MLS device to add.
    const [, b] = world().servers;
    if (b === undefined) throw new Error("two servers");
    const plain = await b.createUser("plain");
    await expect(alice.createConversation({ members: [plain.actorId] })).rejects.toMatchObject({
      code: "no_key_package",
    });
    await expect(
      alice.sendMessage({ conversationId: "urn:uuid:00000000-0000-4000-8000-000000000000", text: "x" }),
    ).rejects.toMatchObject({
      code: "conversation_not_found",
    });
    await expect(
      alice.react({
        conversationId,
        messageId: "urn:uuid:00000000-0000-4000-8000-000000000001",
        emoji: "👍",
      }),
    ).rejects.toMatchObject({
      code: "message_not_found",
    });
    await expect(alice.addMembers({ conversationId, members: [bob.actorId] })).rejects.toMatchObject({
      code: "already_member",
    });
    await expect(alice.removeMembers({ conversationId, members: [plain.actorId] })).rejects.toMatchObject({
      code: "not_a_member",
    });
  });

  it("logs no plaintext and no token", () => {
    const logs = world().logLines.join("");
    expect(logs).toContain('"event":"joined"');
    for (const secret of ["Hello", "frist", "did you read this", "Hi Alice", ...world().tokens.values()]) {
      expect(logs).not.toContain(secret);
    }
  });
});

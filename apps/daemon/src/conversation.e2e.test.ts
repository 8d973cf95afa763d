import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "./daemon.js";
import { createWorld, until, type World } from "./testing/world.js";

// Two real sotto-servers on loopback, real daemons with real encrypted stores: a 1:1 conversation across
// the two servers, edits, deletes, reactions, replies, read receipts.
describe("1:1 conversation across two servers", () => {
  let world: World;
  let alice: Daemon;
  let bob: Daemon;

  beforeAll(async () => {
    world = await createWorld();
    const [a, b] = [await world.server(), await world.server()];
    alice = await world.daemon(a, "alice");
    bob = await world.daemon(b, "bob");
    await alice.start();
    await bob.start();
    // Bob's KeyPackages must be published before Alice can add him.
    await until(
      "bob's KeyPackages",
      async () => (await bob.maintainKeyPackages()) === 0 && bob.counters.get("key_packages.published") > 0,
    );
  });

  afterAll(async () => {
    await world?.close();
  });

  it("delivers a message from Alice to Bob, who answers", async () => {
    const conversation = await alice.createConversation({ members: [bob.actorId], title: "hi" });
    expect(conversation.members.map((m) => m.actorId).sort()).toEqual([alice.actorId, bob.actorId].sort());
    await until("bob joined", () =>
      bob.listConversations().conversations.find((c) => c.id === conversation.id),
    );

    const sent = await alice.sendMessage({ conversationId: conversation.id, text: "Hello, Bob!" });
    expect(sent.outbox).toBe("queued");
    const received = await until("bob has the message", () => {
      try {
        return bob.getMessage(conversation.id, sent.id);
      } catch {
        return undefined;
      }
    });
    expect(received.content).toBe("Hello, Bob!");
    expect(received.author).toBe(alice.actorId);
    await until("alice's message sent", () => alice.getMessage(conversation.id, sent.id).outbox === "sent");

    const reply = await bob.sendMessage({
      conversationId: conversation.id,
      text: "Hi Alice",
      inReplyTo: sent.id,
    });
    const back = await until("alice has the reply", () => {
      try {
        return alice.getMessage(conversation.id, reply.id);
      } catch {
        return undefined;
      }
    });
    expect(back.content).toBe("Hi Alice");
    expect(back.inReplyTo).toBe(sent.id);
  });
});

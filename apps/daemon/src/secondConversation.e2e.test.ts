import { beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "./daemon.js";
import { messageOf, startCast, until, useWorld } from "./testing/world.js";

// Regression: a second conversation between the same two daemons, opened before bob's server stopped
// listing the KeyPackage the first Welcome consumed; bob used to skip its Welcome as `welcome_not_for_device`.
describe("two conversations between the same two daemons", () => {
  const world = useWorld();
  let alice: Daemon;
  let bob: Daemon;

  beforeAll(async () => {
    [alice, bob] = (await startCast(world(), ["alice", "bob"])).daemons;
  });

  it("bob joins both and both carry messages each way", async () => {
    const first = await alice.createConversation({ members: [bob.actorId], title: "first" });
    const second = await alice.createConversation({ members: [bob.actorId], title: "second" });
    for (const conversation of [first, second]) {
      await until(`bob joined ${conversation.title}`, () =>
        bob.listConversations().conversations.find((c) => c.id === conversation.id),
      );
      const sent = await alice.sendMessage({
        conversationId: conversation.id,
        text: `hi ${conversation.title}`,
      });
      const received = await until("bob has it", () => messageOf(bob, conversation.id, sent.id));
      expect(received.content).toBe(`hi ${conversation.title}`);
      const reply = await bob.sendMessage({ conversationId: conversation.id, text: "back" });
      const back = await until("alice has the reply", () => messageOf(alice, conversation.id, reply.id));
      expect(back.content).toBe("back");
    }
    expect(bob.counters.get("skipped.welcome.welcome_not_for_device")).toBe(0);
  });

  it("knows the other member's handle, so the conversation is found by it", async () => {
    // Each daemon's own handle, as it resolved it from its actor at init (preferredUsername@host).
    const handleOf = (d: Daemon) => d.getAccount().handle;
    const [conversation] = bob.listConversations().conversations;
    if (conversation === undefined) throw new Error("bob has conversations");
    const member = await until("bob learned alice's handle", () =>
      bob
        .getConversation(conversation.id)
        .members.find((m) => m.actorId === alice.actorId && m.handle !== null),
    );
    expect(member.handle).toBe(handleOf(alice));
    const mine = await until("alice learned bob's handle", () =>
      alice
        .getConversation(conversation.id)
        .members.find((m) => m.actorId === bob.actorId && m.handle !== null),
    );
    expect(mine.handle).toBe(handleOf(bob));
    expect((await bob.getContact({ actor: alice.actorId })).handle).toBe(handleOf(alice));
    expect(handleOf(alice)).toMatch(/^alice@/);
  });
});

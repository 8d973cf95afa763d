import { beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "./daemon.js";
import { joined, startCast, until, useWorld } from "./testing/world.js";

// A conversation's title travels to its members as application data (an Update of its context): set at
// creation, changed by any member, told to members added later, cleared; each change is one event, no message.
describe("a conversation's title, shared by its members", () => {
  const world = useWorld();
  let alice: Daemon;
  let bob: Daemon;
  let carol: Daemon;
  let conversationId: string;

  const titleAt = (d: Daemon) => d.getConversation(conversationId).title;
  const updates = (d: Daemon) =>
    d.store
      .since(0, 100_000)
      .events.filter(
        (e) =>
          e.type === "conversation.updated" &&
          (e.data as { conversationId?: string }).conversationId === conversationId,
      ).length;

  beforeAll(async () => {
    [alice, bob, carol] = (await startCast(world(), ["alice", "bob", "carol"])).daemons as [
      Daemon,
      Daemon,
      Daemon,
    ];
  });

  it("reaches the invitee of a conversation created with a title", async () => {
    const created = await alice.createConversation({ members: [bob.actorId], title: "  <b>Plans</b> " });
    conversationId = created.id;
    expect(created.title).toBe("Plans");
    await joined(bob, conversationId, "bob");
    await until("bob sees the title", () => titleAt(bob) === "Plans");
    expect(updates(bob)).toBeGreaterThanOrEqual(1);
    expect(bob.listMessages({ conversationId }).messages).toEqual([]);
  });

  it("is changed by any member, for everyone", async () => {
    const before = updates(alice);
    const renamed = await bob.setTitle({ conversationId, title: "Trip to Lyon" });
    expect(renamed.title).toBe("Trip to Lyon");
    await until("alice sees the new title", () => titleAt(alice) === "Trip to Lyon");
    expect(updates(alice)).toBe(before + 1);
    expect(alice.listMessages({ conversationId }).messages).toEqual([]);
  });

  it("is told to a member added later", async () => {
    await alice.addMembers({ conversationId, members: [carol.actorId] });
    await joined(carol, conversationId, "carol");
    await until("carol sees the title", () => titleAt(carol) === "Trip to Lyon");
  });

  it("is cleared with null, and a daemon restart keeps what was received", async () => {
    await carol.setTitle({ conversationId, title: null });
    await until("alice and bob see no title", () => titleAt(alice) === null && titleAt(bob) === null);
    await bob.setTitle({ conversationId, title: "Back" });
    await until("all see it", () => [alice, carol].every((d) => titleAt(d) === "Back"));
    await alice.stop();
    alice = await world().reopen("alice");
    expect(titleAt(alice)).toBe("Back");
  });
});

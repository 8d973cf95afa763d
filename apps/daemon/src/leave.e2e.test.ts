import { describe, expect, it } from "vitest";
import { startCast, until, useWorld } from "./testing/world.js";

// A member leaves while the member who should commit the leave (the lowest remaining leaf) is away: the next
// member commits it after a delay; the one who was away catches up on return.
describe("leaving while the designated committer is away", () => {
  const world = useWorld();

  it("is committed by the next member, and the absent one catches up", async () => {
    const quick = { leaveCommitDelayMs: 300 };
    const {
      daemons: [started, bob, carol],
    } = await startCast(world(), ["alice", "bob", "carol"], quick);
    let alice = started;
    const { id: conversationId } = await alice.createConversation({ members: [bob.actorId, carol.actorId] });
    for (const d of [bob, carol]) {
      await until("joined", () => d.listConversations().conversations.some((c) => c.id === conversationId));
    }

    await alice.stop();
    await carol.leaveConversation({ conversationId });
    await until("bob commits carol out", () => bob.getConversation(conversationId).members.length === 2);
    expect(bob.counters.get("commit.proposals_committed")).toBe(1);

    alice = await world().reopen("alice", quick);
    await alice.start();
    await until("alice catches up", () => alice.getConversation(conversationId).members.length === 2);
    expect(
      alice
        .getConversation(conversationId)
        .members.map((m) => m.actorId)
        .sort(),
    ).toEqual([alice.actorId, bob.actorId].sort());
    await until(
      "alice and bob in the same epoch",
      () => alice.getConversation(conversationId).epoch === bob.getConversation(conversationId).epoch,
    );
    expect(carol.getConversation(conversationId).left).toBe(true);
  });
});

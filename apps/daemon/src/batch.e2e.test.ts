import { Account, ActivityPubClient } from "@sotto/activitypub";
import { beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "./daemon.js";
import { joined, network, startCast, until, useWorld } from "./testing/world.js";

/** How many activities the server holds for an account (read as its daemon would, with its token). */
async function held(account: Account): Promise<number> {
  let n = 0;
  for await (const _ of account.catchUp()) n++;
  return n;
}

describe("receiving a backlog in batches", () => {
  const world = useWorld();
  let alice: Daemon;
  let bob: Daemon;
  let conversationId: string;

  beforeAll(async () => {
    [alice, bob] = (await startCast(world(), ["alice", "bob"])).daemons;
    conversationId = (await alice.createConversation({ members: [bob.actorId] })).id;
    await joined(bob, conversationId, "bob");
  });

  it("applies a page of received activities in few transactions, each once, in order, then syncs the disk", async () => {
    await bob.stop();
    const bobsServer = new Account(
      new ActivityPubClient(network),
      bob.actorId,
      world().tokens.get("bob") ?? "",
    );
    const before = await held(bobsServer);
    const sent: string[] = [];
    for (let i = 0; i < 40; i++)
      sent.push((await alice.sendMessage({ conversationId, text: `backlog ${i}` })).id);
    await until("alice's outbox drained", () => alice.status().outbox.queued === 0);
    // Delivered from alice's server to bob's: the backlog waits there, pages of it.
    await until("bob's server has the backlog", async () => (await held(bobsServer)) >= before + sent.length);

    bob = await world().reopen("bob");
    const told: string[] = [];
    bob.store.onCommit(({ events }) => {
      for (const e of events)
        if (e.type === "message.created") told.push((e.data as { messageId: string }).messageId);
    });
    await bob.start();
    // Sent while the backlog is being applied: the outbox cannot post during a batch, and must not miss it.
    const reply = await bob.sendMessage({ conversationId, text: "back now" });
    await until("bob caught up", () => told.length >= sent.length);
    await until("alice has bob's reply", () =>
      alice.listMessages({ conversationId, limit: 100 }).messages.some((m) => m.id === reply.id),
    );

    expect(told.filter((id) => id !== reply.id)).toEqual(sent);
    const received = bob
      .listMessages({ conversationId, limit: 100 })
      .messages.filter((m) => m.id !== reply.id);
    expect(received.map((m) => m.id)).toEqual(sent);
    // One page of the server's collection holds them all: far fewer store transactions than activities.
    expect(bob.counters.get("received")).toBeGreaterThanOrEqual(sent.length);
    expect(bob.counters.get("received.batch")).toBeGreaterThan(0);
    expect(bob.counters.get("received.batch")).toBeLessThan(sent.length / 4);
    // Received activities are committed without waiting for the disk, and synced within a second.
    await until("bob's store flushed", () => !bob.store.unflushed);
  });
});

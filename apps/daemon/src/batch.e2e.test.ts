import { Account, ActivityPubClient } from "@sotto/activitypub";
import { beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "./daemon.js";
import { joined, messageOf, network, startCast, until, useWorld } from "./testing/world.js";

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
  let carl: Daemon;
  let conversationId: string;

  beforeAll(async () => {
    [alice, bob, carl] = (await startCast(world(), ["alice", "bob", "carl"])).daemons;
    conversationId = (await alice.createConversation({ members: [bob.actorId] })).id;
    await joined(bob, conversationId, "bob");
  });

  /**
   * Stops bob, runs `make` (which says how many activities it made for him), waits until his server holds
   * them all (the backlog waits there, in pages) and reopens him, not started.
   */
  async function backlog(make: () => Promise<number>): Promise<void> {
    await bob.stop();
    const bobsServer = new Account(
      new ActivityPubClient(network),
      bob.actorId,
      world().tokens.get("bob") ?? "",
    );
    const before = await held(bobsServer);
    const made = await make();
    await until("alice's outbox drained", () => alice.status().outbox.queued === 0);
    await until("bob's server has the backlog", async () => (await held(bobsServer)) >= before + made);
    bob = await world().reopen("bob");
  }

  it("applies a backlog with a commit inside it in few transactions, each item once, in order", async () => {
    const sent: string[] = [];
    const send = async (text: string) => sent.push((await alice.sendMessage({ conversationId, text })).id);
    await backlog(async () => {
      for (let i = 0; i < 20; i++) await send(`before carl ${i}`);
      await alice.addMembers({ conversationId, members: [carl.actorId] });
      for (let i = 0; i < 20; i++) await send(`after carl ${i}`);
      return 41;
    });
    const told: string[] = [];
    let toldWhenInSync: number | undefined;
    bob.store.onCommit(({ events }) => {
      for (const e of events) {
        if (e.type === "message.created") told.push((e.data as { messageId: string }).messageId);
        const sync = (e.data as { sync?: { state: string } }).sync;
        if (e.type === "sync.state" && sync?.state === "idle") toldWhenInSync ??= told.length;
      }
    });
    await bob.start();
    // Sent while the backlog is being applied: the outbox cannot post during a batch, and must not miss it.
    const reply = await bob.sendMessage({ conversationId, text: "back now" });
    await until("bob caught up", () => told.length >= sent.length + 1);
    await until("alice has bob's reply", () => messageOf(alice, conversationId, reply.id));

    expect(told.filter((id) => id !== reply.id)).toEqual(sent);
    // "In sync" comes after the backlog's messages (the reader ran ahead of them): a client counting what a
    // catch-up brought sees it all.
    expect(toldWhenInSync).toBeGreaterThanOrEqual(sent.length);
    const received = bob
      .listMessages({ conversationId, limit: 100 })
      .messages.filter((m) => m.id !== reply.id)
      .map((m) => m.id);
    expect(received).toEqual(sent);
    expect(bob.getConversation(conversationId).members.map((m) => m.actorId)).toContain(carl.actorId);
    // Pages of the server's collection: far fewer store transactions than activities.
    expect(bob.counters.get("received")).toBeGreaterThanOrEqual(41);
    expect(bob.counters.get("received.batch")).toBeGreaterThan(0);
    expect(bob.counters.get("received.batch")).toBeLessThan(41 / 4);
    // Received activities are committed without waiting for the disk, and synced within a second.
    await until("bob's store flushed", () => !bob.store.unflushed);
  });

  it("lets the event loop turn while a batch is applied (the next page is read meanwhile)", async () => {
    await backlog(async () => {
      for (let i = 0; i < 60; i++) await alice.sendMessage({ conversationId, text: `while away ${i}` });
      return 60;
    });
    let turnsInBatch = 0;
    let polling = true;
    const poll = () => {
      if (bob.store.batching) turnsInBatch++;
      if (polling) setImmediate(poll);
    };
    poll();
    await bob.start();
    try {
      await until("bob caught up", () => bob.counters.get("appdata.message") >= 60);
    } finally {
      polling = false;
    }
    // Each batch ends with one turn (waiting to see whether more is ready); the rest were taken inside.
    expect(turnsInBatch).toBeGreaterThan(bob.counters.get("received.batch"));
  });

  it("keeps the state the batch ended with: after a restart bob sends in the new epoch and carl reads it", async () => {
    await bob.stop();
    bob = await world().reopen("bob");
    await bob.start();
    const message = await bob.sendMessage({ conversationId, text: "after the restart" });
    expect((await until("carl has it", () => messageOf(carl, conversationId, message.id))).content).toBe(
      "after the restart",
    );
    await until("alice has it", () => messageOf(alice, conversationId, message.id));
  });
});

import { Account, ActivityPubClient, type ReceivedItem } from "@sotto/activitypub";
import { readEnvelope } from "@sotto/core";
import { describe, expect, it } from "vitest";
import { joined, messageOf, network, startCast, until, useWorld } from "./testing/world.js";

// Out-of-order delivery: a message for an epoch not reached yet is held (sealed in the store, across a restart)
// and applied once the commit that starts the epoch arrives.
describe("messages ahead of their commit", () => {
  const world = useWorld();

  it("are held, survive a restart, and are applied after the commit", async () => {
    const {
      servers: [_a, _b],
      daemons: [alice, started, carol],
    } = await startCast(world(), ["alice", "bob", "carol"]);
    let bob = started;
    const { id: conversationId } = await alice.createConversation({ members: [bob.actorId] });
    await joined(bob, conversationId, "bob");
    await bob.stop();

    // While Bob is away: a commit (Carol joins, a new epoch) and a message of the new epoch.
    await alice.addMembers({ conversationId, members: [carol.actorId] });
    const m = await alice.sendMessage({ conversationId, text: "in the new epoch" });
    await until(
      "alice's outbox drained",
      () => alice.store.outboxDue(Number.MAX_SAFE_INTEGER, 1).length === 0,
    );

    // Read what reached Bob's server, and hand it to Bob in the wrong order: the message before the commit.
    const account = new Account(
      new ActivityPubClient(network),
      bob.actorId,
      world().tokens.get("bob") as string,
    );
    const read = async () => {
      const items: ReceivedItem[] = [];
      for await (const item of account.catchUp()) items.push(item);
      return items;
    };
    const contentType = (item: ReceivedItem) => {
      const read = readEnvelope(item.activity);
      return read.ok && read.value.message.wireformat === "mls_private_message"
        ? read.value.message.privateMessage.contentType
        : undefined;
    };
    // Server A delivers to server B through its queue: wait until both arrived.
    const { commit, message } = await until("both reached bob's server", async () => {
      const items = await read();
      const commit = items.findLast((i) => contentType(i) === "commit");
      const message = items.findLast((i) => contentType(i) === "application");
      return commit !== undefined && message !== undefined ? { commit, message } : undefined;
    });
    bob = await world().reopen("bob");
    await bob.receive(message);
    expect(bob.counters.get("held")).toBe(1);
    expect(messageOf(bob, conversationId, m.id)).toBeUndefined();

    // The hold is in the store: it outlives a restart.
    await bob.stop();
    bob = await world().reopen("bob");
    await bob.receive(commit);
    expect(bob.counters.get("held.released")).toBe(1);
    expect(messageOf(bob, conversationId, m.id)?.content).toBe("in the new epoch");
    expect(bob.getConversation(conversationId).members).toHaveLength(3);

    // Sync then reads the same two activities again from the server: both are dropped as already processed.
    await bob.start();
    await until("bob's sync read them again", () => bob.counters.get("received.duplicate") >= 2);
    expect(bob.listMessages({ conversationId }).messages.filter((x) => x.id === m.id)).toHaveLength(1);
    // ... and read past: the sync position is now the last item the server has.
    const last = (await read()).at(-1)?.id;
    await until("bob's sync position is at the end", () => bob.store.cursor("received") === last);
  });

  it("moves the held list of an older daemon (one sealed setting) to rows when it opens", async () => {
    const dave = await world().daemon(await world().server(), "dave");
    const activity = { type: "Create", actor: "https://elsewhere.test/users/erin", object: {} };
    dave.store.apply({
      settings: { held: [{ activityId: "urn:x:1", activity, groupId: "g", epoch: -1, heldAt: 1 }] },
    });
    await dave.stop();
    const reopened = await world().reopen("dave");
    expect(reopened.store.setting("held")).toBeUndefined();
    expect(reopened.store.held("g")).toMatchObject([
      { id: "urn:x:1", sender: "https://elsewhere.test/users/erin" },
    ]);
    expect(reopened.store.heldActivity("urn:x:1")).toEqual(activity);
  });
});

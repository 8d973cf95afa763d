import { Account, ActivityPubClient } from "@sotto/activitypub";
import { decodeConversation, processMessage, readEnvelope } from "@sotto/core";
import { beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "./daemon.js";
import { messageOf, network, startCast, until, useWorld } from "./testing/world.js";

// A group of three actors on two real servers: everyone reads everyone; a removed member can no longer
// read (checked with real MLS against her stored state); a member who leaves is committed out.
describe("group of three across two servers", () => {
  const world = useWorld();
  let alice: Daemon;
  let bob: Daemon;
  let carol: Daemon;
  let conversationId: string;

  beforeAll(async () => {
    [alice, bob, carol] = (await startCast(world(), ["alice", "bob", "carol"])).daemons as [
      Daemon,
      Daemon,
      Daemon,
    ];
  });

  it("creates the group and every member reads every other", async () => {
    const conversation = await alice.createConversation({ members: [bob.actorId, carol.actorId] });
    conversationId = conversation.id;
    expect(conversation.members).toHaveLength(3);
    for (const d of [bob, carol]) {
      await until("joined", () => d.listConversations().conversations.find((c) => c.id === conversationId));
    }
    const fromBob = await bob.sendMessage({ conversationId, text: "bob here" });
    const fromCarol = await carol.sendMessage({ conversationId, text: "carol here" });
    for (const [d, m] of [
      [alice, fromBob],
      [carol, fromBob],
      [alice, fromCarol],
      [bob, fromCarol],
    ] as const) {
      await until("delivered", () => messageOf(d, conversationId, m.id));
    }
  });

  it("removes Carol, who can no longer read what follows", async () => {
    await alice.removeMembers({ conversationId, members: [carol.actorId] });
    await until("carol sees she was removed", () => carol.getConversation(conversationId).left);
    await until(
      "bob sees carol go",
      () => !bob.getConversation(conversationId).members.some((m) => m.actorId === carol.actorId),
    );

    const secret = await alice.sendMessage({ conversationId, text: "after carol" });
    await until("bob reads it", () => messageOf(bob, conversationId, secret.id));

    // Take the ciphertext as Bob's server stored it and try it against Carol's own stored MLS state.
    const client = new ActivityPubClient(network);
    const received: unknown[] = [];
    for await (const item of new Account(client, bob.actorId, world().tokens.get("bob") as string).catchUp(
      {},
    )) {
      received.push(item.activity);
    }
    const envelope = readEnvelope(received.at(-1));
    expect(envelope.ok).toBe(true);
    if (!envelope.ok) return;
    const record = carol.store.group(conversationId);
    const state = record === undefined ? undefined : decodeConversation(record.state);
    expect(state?.ok).toBe(true);
    if (!state?.ok) return;
    const attempt = await processMessage(state.value, { bytes: envelope.value.bytes });
    expect(attempt.ok).toBe(false);
    expect(messageOf(carol, conversationId, secret.id)).toBeUndefined();
  });

  it("lets Bob leave; Alice commits his self-removal", async () => {
    await bob.leaveConversation({ conversationId });
    expect(bob.getConversation(conversationId).left).toBe(true);
    await until("alice commits bob out", () => alice.getConversation(conversationId).members.length === 1);
    await expect(bob.sendMessage({ conversationId, text: "still here?" })).rejects.toMatchObject({
      code: "not_a_member",
    });
    expect(bob.listConversations().conversations.some((c) => c.id === conversationId)).toBe(false);
    expect(
      bob.listConversations({ includeLeft: true }).conversations.some((c) => c.id === conversationId),
    ).toBe(true);
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "./daemon.js";
import { joined, messageOf, startCast, until, useWorld } from "./testing/world.js";

// Regression: messages are listed by their time, and messages sent within one millisecond used to share it and
// come out in the order of their random ids.
describe("messages sent within one millisecond", () => {
  const world = useWorld();
  let alice: Daemon;
  let bob: Daemon;
  const frozen = Date.now();

  beforeAll(async () => {
    [alice, bob] = (await startCast(world(), ["alice", "bob"], { now: () => frozen })).daemons;
  });

  it("keep the order they were sent in, for the sender and the receiver", async () => {
    const { id: conversationId } = await alice.createConversation({ members: [bob.actorId] });
    await joined(bob, conversationId, "bob");
    const sent: string[] = [];
    for (let i = 0; i < 8; i++) sent.push((await alice.sendMessage({ conversationId, text: `m${i}` })).id);
    await until("bob has the last", () => messageOf(bob, conversationId, sent.at(-1) as string));

    const listed = (d: Daemon) => d.listMessages({ conversationId, limit: 50 }).messages.map((m) => m.id);
    expect(listed(alice)).toEqual(sent);
    expect(listed(bob)).toEqual(sent);
    const times = alice
      .listMessages({ conversationId, limit: 50 })
      .messages.map((m) => Date.parse(m.published));
    expect(times.every((t, i) => i === 0 || t > (times[i - 1] as number))).toBe(true);
  });
});

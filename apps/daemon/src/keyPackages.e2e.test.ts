import { ActivityPubClient } from "@sotto/activitypub";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorDirectory } from "./actors.js";
import type { Daemon } from "./daemon.js";
import { createWorld, network, until, type World } from "./testing/world.js";

// The KeyPackage pool on a real server: published with Create + Add, a consumed package retired
// (Remove + Delete) and replaced, so the collection keeps `size` single-use packages plus a last-resort one.
describe("KeyPackage pool", () => {
  let world: World;
  let alice: Daemon;
  let bob: Daemon;
  const directory = new ActorDirectory(new ActivityPubClient(network));

  beforeAll(async () => {
    world = await createWorld();
    const [a, b] = [await world.server(), await world.server()];
    alice = await world.daemon(a, "alice");
    bob = await world.daemon(b, "bob", { keyPackages: { size: 3 } });
    await alice.start();
    await bob.start();
  });

  afterAll(async () => {
    await world?.close();
  });

  it("publishes size + 1 packages once, even when rounds are asked for concurrently", async () => {
    await Promise.all([bob.maintainKeyPackages(), bob.maintainKeyPackages()]);
    const listed = await directory.listKeyPackages(bob.actorId);
    expect(listed).toHaveLength(4);
    expect(bob.store.keyPackages()).toHaveLength(4);
    expect(new Set(listed.map((kp) => kp.generator)).size).toBe(1);
  });

  it("retires the package a Welcome consumed and publishes a replacement", async () => {
    const before = await directory.listKeyPackages(bob.actorId);
    const { id } = await alice.createConversation({ members: [bob.actorId] });
    await until("bob joined", () => bob.listConversations().conversations.some((c) => c.id === id));
    const after = await until("the pool is whole again", async () => {
      const listed = await directory.listKeyPackages(bob.actorId);
      const gone = before.filter((b) => !listed.some((l) => l.objectId === b.objectId));
      return listed.length === 4 && gone.length === 1 ? { listed, gone } : undefined;
    });
    expect(after.gone[0]?.objectId).toBeDefined();
    await expect(directory.client.getObject(after.gone[0]?.objectId as string)).rejects.toMatchObject({
      code: expect.stringMatching(/^(not_found|gone)$/),
    });
  });

  it("retires packages before they expire and publishes fresh ones", async () => {
    let clock = Date.now();
    const [, b] = world.servers;
    if (b === undefined) throw new Error("the world has two servers");
    const carol = await world.daemon(b, "carol", {
      now: () => clock,
      keyPackages: { size: 2, lifetimeSeconds: 24 * 3600, rotateBeforeMs: 6 * 3600_000 },
    });
    await carol.maintainKeyPackages();
    const first = await directory.listKeyPackages(carol.actorId);
    expect(first).toHaveLength(3);
    clock += 20 * 3600_000; // within six hours of expiry
    await carol.maintainKeyPackages();
    await carol.flushOutbox();
    const second = await directory.listKeyPackages(carol.actorId);
    expect(second).toHaveLength(3);
    expect(second.some((kp) => first.some((f) => f.objectId === kp.objectId))).toBe(false);
    // Their private parts stay until they expire, for Welcomes already on their way; then they go.
    expect(carol.store.keyPackages()).toHaveLength(6);
    clock += 5 * 3600_000;
    await carol.maintainKeyPackages();
    expect(carol.store.keyPackages()).toHaveLength(3);
  });

  it("keeps a consumed package's keys for a day (a second Welcome may be built on it), then deletes them", async () => {
    let clock = Date.now();
    const [, b] = world.servers;
    if (b === undefined) throw new Error("the world has two servers");
    const dora = await world.daemon(b, "dora", { now: () => clock, keyPackages: { size: 2 } });
    await dora.start();
    await dora.maintainKeyPackages();
    const before = dora.store.keyPackages().map((kp) => kp.ref);
    const { id } = await alice.createConversation({ members: [dora.actorId] });
    await until("dora joined", () => dora.listConversations().conversations.some((c) => c.id === id));
    const consumed = await until("a package is retired", () =>
      dora.store.keyPackages().find((kp) => before.includes(kp.ref) && kp.objectId?.startsWith("retired:")),
    );
    clock += 23 * 3600_000;
    await dora.maintainKeyPackages();
    expect(dora.store.keyPackage(consumed.ref)).toBeDefined();
    clock += 2 * 3600_000;
    await dora.maintainKeyPackages();
    expect(dora.store.keyPackage(consumed.ref)).toBeUndefined();
  });
});

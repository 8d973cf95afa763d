import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Daemon } from "./daemon.js";
import { joined, messageOf, network, startCast, until, useWorld } from "./testing/world.js";

// A verified contact shows a new device: the contact becomes unverified ("changed"), the change is announced,
// and verifying again clears it. The new device of the same actor reads the conversation too.
describe("a verified contact's new device", () => {
  const world = useWorld();

  it("is detected, announced and needs verifying again", async () => {
    const {
      servers: [_a, _b],
      daemons: [alice, bob],
    } = await startCast(world(), ["alice", "bob"]);
    const { id: conversationId } = await alice.createConversation({ members: [bob.actorId] });
    await joined(bob, conversationId, "bob");

    const contact = await alice.getContact({ actor: bob.actorId });
    expect(contact.devices).toHaveLength(1);
    await expect(alice.verifyContact({ actor: bob.actorId, fingerprints: ["0000"] })).rejects.toMatchObject({
      code: "fingerprint_mismatch",
    });
    const verified = await alice.verifyContact({
      actor: bob.actorId,
      fingerprints: [contact.devices[0]?.fingerprint as string],
    });
    expect(verified.verified).toBe(true);

    // Bob sets up a second device (a second daemon for the same account) and Alice adds it.
    writeFileSync(world().keyFile("bob2"), randomBytes(32), { mode: 0o600 });
    const bob2 = await Daemon.init({
      dataDir: join(world().dir, "bob2-data"),
      key: { keyFile: world().keyFile("bob2") },
      logger: world().logger,
      pollIntervalMs: 100,
      keyPackages: { size: 1 },
      actor: bob.actorId,
      token: world().tokens.get("bob") as string,
      network,
    });
    world().daemons.push(bob2);
    await bob2.start();
    await bob2.maintainKeyPackages();
    const seqBefore = alice.store.lastSeq;
    await alice.addMembers({ conversationId, members: [bob.actorId] });

    const changed = await alice.getContact({ actor: bob.actorId });
    expect(changed.verified).toBe(false);
    expect(changed.devices).toHaveLength(2);
    expect(changed.keyChangedAt).not.toBeNull();
    const events = alice.store.since(seqBefore, 100).events.map((e) => e.type);
    expect(events).toContain("contact.key_changed");
    expect(events).toContain("conversation.updated");
    expect(alice.getConversation(conversationId).keyChanged).toBe(true);

    // The new device reads what Alice sends next; verifying again clears the mark.
    await joined(bob2, conversationId, "bob2");
    const m = await alice.sendMessage({ conversationId, text: "to both of you" });
    await until("bob2 reads it", () => messageOf(bob2, conversationId, m.id));
    await until("bob reads it", () => messageOf(bob, conversationId, m.id));
    expect((await alice.verifyContact({ actor: bob.actorId })).verified).toBe(true);
    expect(alice.getConversation(conversationId).keyChanged).toBe(false);
    await expect(alice.addMembers({ conversationId, members: [bob.actorId] })).rejects.toMatchObject({
      code: "already_member",
    });
  });
});

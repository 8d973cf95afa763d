import { Account, ActivityPubClient } from "@sotto/activitypub";
import {
  type DeviceIdentity,
  decodeDeviceIdentity,
  endorseKeyPackage,
  generateDeviceIdentity,
  generateKeyPackages,
  writeKeyPackageObject,
} from "@sotto/core";
import { beforeAll, describe, expect, it } from "vitest";
import { DEVICE_KEY_ID } from "./context.js";
import type { Daemon } from "./daemon.js";
import { joined, network, startCast, until, useWorld } from "./testing/world.js";

// Several devices per person (issue 18) with real servers and daemons: alice on one server, carol (who verified
// alice) on the other.
describe("devices of one person, as a verified peer sees them", () => {
  const world = useWorld();
  let alice: Daemon;
  let carol: Daemon;
  let conversationId: string;

  beforeAll(async () => {
    const cast = await startCast(world(), ["alice", "carol"]);
    [alice, carol] = cast.daemons;
    await alice.maintainKeyPackages();
    ({ id: conversationId } = await carol.createConversation({ members: [alice.actorId] }));
    await joined(alice, conversationId, "alice");
    await carol.verifyContact({ actor: alice.actorId });
  });

  /** Publishes a KeyPackage of a new device of alice straight into her server's collection, as her server could. */
  async function inject(endorser?: DeviceIdentity): Promise<DeviceIdentity> {
    const device = await generateDeviceIdentity(alice.actorId);
    const [kp] = await generateKeyPackages(device, { count: 0, time: new Date() });
    const keyPackage = (kp as { keyPackage: Uint8Array }).keyPackage;
    const account = new Account(
      new ActivityPubClient(network),
      alice.actorId,
      world().tokens.get("alice") ?? "",
    );
    const object = writeKeyPackageObject({
      actor: alice.actorId,
      keyPackage,
      generator: { id: `urn:uuid:${crypto.randomUUID()}`, name: "injected" },
      ...(endorser === undefined ? {} : { endorsement: await endorseKeyPackage(endorser, keyPackage) }),
    });
    await account.post({ "@context": object["@context"], type: "Create", actor: alice.actorId, object });
    return device;
  }

  const aliceContact = () => carol.listContacts().contacts.find((c) => c.actorId === alice.actorId);

  it("accepts without a warning a device that alice's verified device endorsed", async () => {
    const key = alice.store.deviceKey(DEVICE_KEY_ID);
    const identity = key === undefined ? undefined : decodeDeviceIdentity(key.privateKey);
    if (!identity?.ok) throw new Error("alice's device key does not decode");
    await inject(identity.value);
    await carol.addMembers({ conversationId, members: [alice.actorId] });
    const contact = aliceContact();
    expect(contact?.devices).toHaveLength(2);
    expect(contact?.verified).toBe(true);
    expect(contact?.devices.filter((d) => d.endorsedBy !== null)).toHaveLength(1);
    const conversation = carol.getConversation(conversationId);
    expect(conversation.keyChanged).toBe(false);
    expect(conversation.alerts ?? []).toEqual([]);
  });

  it("warns at the verified peer on a device injected into alice's keyPackages without endorsement", async () => {
    await inject();
    await carol.addMembers({ conversationId, members: [alice.actorId] });
    const contact = await until("carol sees the injected device", () =>
      aliceContact()?.devices.length === 3 ? aliceContact() : undefined,
    );
    expect(contact?.verified).toBe(false);
    const conversation = carol.getConversation(conversationId);
    expect(conversation.keyChanged).toBe(true);
    expect(conversation.alerts).toContainEqual(
      expect.objectContaining({ kind: "device_unendorsed", actorId: alice.actorId }),
    );
    const events = carol.store.since(0, 1000).events.filter((e) => e.type === "conversation.security_alert");
    expect(events).toContainEqual(
      expect.objectContaining({
        data: expect.objectContaining({ kind: "device_unendorsed", conversationId }),
      }),
    );
  });
});

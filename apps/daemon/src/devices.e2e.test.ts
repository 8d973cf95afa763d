import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Account, ActivityPubClient } from "@sotto/activitypub";
import { ApiError } from "@sotto/api";
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
import { Daemon } from "./daemon.js";
import { SETTINGS_LINK_CODES } from "./deviceLink.js";
import { runProgram } from "./testing/programs.js";
import { joined, messageOf, network, startCast, until, useWorld, type World } from "./testing/world.js";

/** Another daemon (device) of an existing account, initialised with the account's token, not started. */
async function secondDevice(world: World, account: string, name: string): Promise<Daemon> {
  const dataDir = join(world.dir, `${name}-data`);
  const keyFile = world.keyFile(name);
  writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
  const first = world.daemons.find((d) => d.actorId.endsWith(`/users/${account}`)) as Daemon;
  const daemon = await Daemon.init({
    dataDir,
    key: { keyFile },
    logger: world.logger,
    pollIntervalMs: 100,
    keyPackages: { size: 2 },
    outbox: { baseDelayMs: 50, maxDelayMs: 500 },
    actor: first.actorId,
    token: world.tokens.get(account) ?? "",
    network,
    deviceName: name,
  });
  world.daemons.push(daemon);
  return daemon;
}

const texts = (daemon: Daemon, conversationId: string) =>
  daemon.listMessages({ conversationId, limit: 500 }).messages.map((m) => m.content);

// Done-when of issue 18, end to end: alice links a second daemon into three conversations (1:1 and groups,
// members on two servers), with history; it reads and sends as alice; carol, who verified alice, sees no new
// warning; removing it stops it reading; a link code works once and not after expiry.
describe("linking a second device", () => {
  const world = useWorld();
  let alice: Daemon;
  let bob: Daemon;
  let carol: Daemon;
  let laptop: Daemon;
  const chats: string[] = [];

  beforeAll(async () => {
    const cast = await startCast(world(), ["alice", "bob", "carol"]);
    [alice, bob, carol] = cast.daemons;
    await alice.maintainKeyPackages();
    chats.push((await alice.createConversation({ members: [bob.actorId] })).id);
    chats.push((await alice.createConversation({ members: [bob.actorId, carol.actorId], title: "g1" })).id);
    chats.push((await carol.createConversation({ members: [alice.actorId, bob.actorId], title: "g2" })).id);
    for (const id of chats) {
      await joined(alice, id, "alice");
      await joined(bob, id, "bob");
    }
    await joined(carol, chats[1] as string, "carol");
    for (const [i, id] of chats.entries()) {
      const sent = await alice.sendMessage({ conversationId: id, text: `history ${i}` });
      await until("bob has the history", () => messageOf(bob, id, sent.id));
    }
    await carol.verifyContact({ actor: alice.actorId });
  }, 120_000);

  it("links it with a code: same comparison string, added to all three, with the recent history", async () => {
    const { code, fingerprint } = alice.linkDevice();
    expect(fingerprint).toBe(alice.getAccount().device.fingerprint);
    laptop = await secondDevice(world(), "alice", "laptop");
    const { comparison } = await laptop.joinDevice({ code });
    await laptop.start();
    await laptop.flushOutbox();
    const requested = await until("alice sees the request", async () => {
      await alice.syncNow();
      return alice.listDevices().devices.find((d) => d.link?.state === "requested");
    });
    expect(requested.link?.comparison).toBe(comparison);
    const approved = await until("the request's KeyPackages arrived", () =>
      alice.approveDevice({ id: requested.id }).catch((error: unknown) => {
        if (error instanceof ApiError && error.code === "device_not_found") return undefined;
        throw error;
      }),
    );
    expect(approved.conversations).toBe(3);
    expect(approved.device.link?.state).toBe("linked");
    for (const [i, id] of chats.entries()) {
      await joined(laptop, id, "laptop");
      await until("the laptop has the history", () => texts(laptop, id).includes(`history ${i}`));
    }
    await until("the laptop sees the approval", () =>
      laptop.listDevices().devices[0]?.link?.state === "linked" ? true : undefined,
    );
  }, 120_000);

  it("receives new messages in all three, and what it sends shows up as alice's", async () => {
    const fromBob = await bob.sendMessage({ conversationId: chats[0] as string, text: "to both of alice" });
    const fromCarol = await carol.sendMessage({ conversationId: chats[1] as string, text: "carol here" });
    const fromAlice = await alice.sendMessage({ conversationId: chats[2] as string, text: "from the phone" });
    await until("laptop reads bob", () => messageOf(laptop, chats[0] as string, fromBob.id));
    await until("laptop reads carol", () => messageOf(laptop, chats[1] as string, fromCarol.id));
    await until("laptop reads alice's other device", () =>
      messageOf(laptop, chats[2] as string, fromAlice.id),
    );
    const fromLaptop = await laptop.sendMessage({
      conversationId: chats[1] as string,
      text: "from the laptop",
    });
    const onPhone = await until("alice's first device reads it", () =>
      messageOf(alice, chats[1] as string, fromLaptop.id),
    );
    expect(onPhone.author).toBe(alice.actorId);
    const atBob = await until("bob reads it", () => messageOf(bob, chats[1] as string, fromLaptop.id));
    expect(atBob.author).toBe(alice.actorId);
  }, 120_000);

  it("shows carol, who verified alice, no new warning", async () => {
    await until("carol sees the laptop", () =>
      (carol.listContacts().contacts.find((c) => c.actorId === alice.actorId)?.devices.length ?? 0) >= 2
        ? true
        : undefined,
    );
    const contact = carol.listContacts().contacts.find((c) => c.actorId === alice.actorId);
    expect(contact?.verified).toBe(true);
    expect(contact?.devices.filter((d) => d.endorsedBy !== null)).toHaveLength(1);
    for (const id of [chats[1], chats[2]] as string[]) {
      const conversation = carol.getConversation(id);
      expect(conversation.keyChanged).toBe(false);
      expect(conversation.alerts ?? []).toEqual([]);
    }
  });

  it("leaves on every device of alice when she leaves on one", async () => {
    await alice.leaveConversation({ conversationId: chats[2] as string });
    await until("the laptop left too", () => laptop.getConversation(chats[2] as string).left || undefined);
  }, 120_000);

  it("removes the laptop: it reads nothing sent afterwards", async () => {
    const laptopId = alice.listDevices().devices.find((d) => !d.current)?.id as string;
    const removed = await alice.removeDevice({ id: laptopId });
    expect(removed.conversations).toBe(2);
    for (const id of [chats[0], chats[1]] as string[])
      await until("the laptop is out", () => laptop.getConversation(id).left || undefined);
    const after = await bob.sendMessage({ conversationId: chats[0] as string, text: "after removal" });
    await until("alice reads it", () => messageOf(alice, chats[0] as string, after.id));
    await laptop.syncNow();
    expect(messageOf(laptop, chats[0] as string, after.id)).toBeUndefined();
    expect(alice.listDevices().devices.find((d) => d.id === laptopId)?.link?.state).toBe("removed");
  }, 120_000);

  it("refuses a link code used twice, and one that expired", async () => {
    const { code } = alice.linkDevice();
    // The first one as users do it: `sottod init --link CODE`.
    const keyFile = world().keyFile("tablet");
    writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
    const init = await runProgram(
      "sottod",
      [
        ...["init", "--data", join(world().dir, "tablet-data"), "--actor", alice.actorId],
        ...["--token", world().tokens.get("alice") ?? "", "--key-file", keyFile, "--link", code],
        "--allow-private-address",
        "--plain-http-webfinger",
      ],
      "",
    );
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(init.stdout).comparison).toMatch(/^\d{4}( \d{4}){4}$/);
    await until("alice takes the first request", async () => {
      await alice.syncNow();
      return alice.counters.get("link.requested") >= 2 || undefined;
    });
    const again = await secondDevice(world(), "alice", "tablet2");
    await again.joinDevice({ code });
    await again.flushOutbox();
    await until("alice refuses the reused code", async () => {
      await alice.syncNow();
      return alice.counters.get("skipped.welcome.link_code_used") === 1 || undefined;
    });
    const expired = "ABCD-EFGH-JKMN";
    const codes = alice.store.setting(SETTINGS_LINK_CODES) as unknown as object[];
    alice.store.apply({
      settings: { [SETTINGS_LINK_CODES]: [...codes, { code: expired, expiresAt: Date.now() - 1 }] as never },
    });
    const late = await secondDevice(world(), "alice", "tablet3");
    await late.joinDevice({ code: expired });
    await late.flushOutbox();
    await until("alice refuses the expired code", async () => {
      await alice.syncNow();
      return alice.counters.get("skipped.welcome.link_code_expired") === 1 || undefined;
    });
    const requested = alice.listDevices().devices.filter((d) => d.link?.state === "requested");
    expect(requested).toHaveLength(1);
  }, 120_000);
});

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

  it("shows alice the devices she did not link, and lets her remove one from her conversations", async () => {
    const strangers = await until("alice sees the devices carol added", () => {
      const found = alice.listDevices().devices.filter((d) => !d.current && d.link === null);
      return found.length === 2 ? found : undefined;
    });
    const removed = await alice.removeDevice({ id: (strangers[1] as { id: string }).id });
    expect(removed.conversations).toBe(1);
    await until(
      "carol applies the removal",
      () =>
        carol.getConversation(conversationId).epoch === alice.getConversation(conversationId).epoch ||
        undefined,
    );
    expect(alice.listDevices().devices.filter((d) => !d.current && d.link === null)).toHaveLength(1);
  });
});

// Scenarios with real crypto: devices, KeyPackage pools, conversations between actors with several devices.
import { describe, expect, it } from "vitest";
import { sha256Hex } from "./codec.js";
import {
  type ActorFetcher,
  addMembers,
  type CommitOutcome,
  type Conversation,
  commitPendingProposals,
  commitPrecedes,
  createConversation,
  type DeviceIdentity,
  decodeConversation,
  encodeConversation,
  encryptMessage,
  epochOf,
  FutureEpochError,
  generateDeviceIdentity,
  generateKeyPackages,
  joinConversation,
  leaveConversation,
  MlsEngineError,
  members,
  type OwnKeyPackage,
  processMessage,
  type Received,
  reapplyIntent,
  removeMembers,
  updateConversation,
} from "./index.js";

/** The actors' `keyPackages` collections, as a server would list them. */
class Directory implements ActorFetcher {
  readonly lists = new Map<string, Uint8Array[]>();
  async keyPackagesOf(actorId: string): Promise<readonly Uint8Array[]> {
    return this.lists.get(actorId) ?? [];
  }
  publish(actorId: string, keyPackages: readonly Uint8Array[]): void {
    this.lists.set(actorId, [...(this.lists.get(actorId) ?? []), ...keyPackages]);
  }
}

interface Device {
  readonly identity: DeviceIdentity;
  readonly pool: OwnKeyPackage[];
  conversation?: Conversation;
}

const text = (s: string) => new TextEncoder().encode(s);
const read = (b: Uint8Array) => new TextDecoder().decode(b);
const actor = (name: string) => `https://example.test/users/${name}`;

async function device(directory: Directory, actorId: string): Promise<Device> {
  const identity = await generateDeviceIdentity(actorId);
  const pool = await generateKeyPackages(identity, { count: 1, time: new Date() });
  directory.publish(
    actorId,
    pool.map((p) => p.keyPackage),
  );
  return { identity, pool };
}

function context(directory: Directory, d: Device) {
  return { device: d.identity, fetcher: directory, time: new Date() };
}

async function join(d: Device, welcome: Uint8Array | undefined): Promise<void> {
  if (welcome === undefined) throw new Error("no Welcome");
  const joined = await joinConversation(d.identity, welcome, d.pool);
  if (!joined.ok) throw joined.error;
  d.conversation = joined.value.conversation;
}

function conv(d: Device): Conversation {
  if (d.conversation === undefined) throw new Error("not in a conversation");
  return d.conversation;
}

async function receive(d: Device, bytes: Uint8Array, published?: Date): Promise<Received> {
  const result = await processMessage(conv(d), { bytes, ...(published && { published }) });
  if (!result.ok) throw result.error;
  d.conversation = result.value.conversation;
  return result.value;
}

async function refusal(d: Device, bytes: Uint8Array, published?: Date): Promise<MlsEngineError> {
  const before = conv(d);
  const result = await processMessage(before, { bytes, ...(published && { published }) });
  if (result.ok) throw new Error(`expected a refusal, got ${result.value.kind}`);
  expect(result.error).toBeInstanceOf(MlsEngineError);
  return result.error;
}

async function send(d: Device, message: string): Promise<Uint8Array> {
  const sent = await encryptMessage(conv(d), text(message));
  d.conversation = sent.conversation;
  return sent.message;
}

async function expectText(d: Device, bytes: Uint8Array, message: string, from: string): Promise<void> {
  const r = await receive(d, bytes);
  expect(r.kind).toBe("application");
  if (r.kind !== "application") return;
  expect(read(r.data)).toBe(message);
  expect(r.sender.actorId).toBe(from);
}

/** Applies a commit on every other device already in the group, and the Welcome on the new ones. */
async function distribute(
  outcome: CommitOutcome,
  others: readonly Device[],
  joiners: readonly Device[] = [],
) {
  for (const d of others) await receive(d, outcome.commit, outcome.published);
  for (const d of joiners) await join(d, outcome.welcome);
}

/** `creator` starts a conversation with the `joiners`' actors, who join through its Welcome. */
async function startConversation(directory: Directory, creator: Device, joiners: readonly Device[]) {
  const created = await createConversation(context(directory, creator), {
    members: joiners.map((d) => d.identity.actorId),
  });
  creator.conversation = created.conversation;
  for (const d of joiners) await join(d, created.welcome);
}

describe("1:1 conversation", () => {
  it("creates, joins through the Welcome and exchanges messages both ways", async () => {
    const directory = new Directory();
    const alice = await device(directory, actor("alice"));
    const bob = await device(directory, actor("bob"));
    const created = await createConversation(context(directory, alice), { members: [actor("bob")] });
    alice.conversation = created.conversation;
    expect(created.welcomeRecipients).toEqual([actor("bob")]);
    expect(created.conversation.groupId).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    await join(bob, created.welcome);
    expect(conv(bob).groupId).toBe(conv(alice).groupId);
    expect(epochOf(conv(bob))).toBe(epochOf(conv(alice)));
    expect(
      members(conv(bob))
        .map((m) => m.actorId)
        .sort(),
    ).toEqual([actor("alice"), actor("bob")]);

    await expectText(bob, await send(alice, "hello bob"), "hello bob", actor("alice"));
    await expectText(alice, await send(bob, "hello alice"), "hello alice", actor("bob"));
  });

  it("survives a round trip through the stored form mid-conversation", async () => {
    const directory = new Directory();
    const alice = await device(directory, actor("alice"));
    const bob = await device(directory, actor("bob"));
    await startConversation(directory, alice, [bob]);
    const m1 = await send(alice, "one");
    const stored = decodeConversation(encodeConversation(conv(bob)));
    if (!stored.ok) throw stored.error;
    bob.conversation = stored.value;
    await expectText(bob, m1, "one", actor("alice"));
    const restoredAlice = decodeConversation(encodeConversation(conv(alice)));
    if (!restoredAlice.ok) throw restoredAlice.error;
    alice.conversation = restoredAlice.value;
    await expectText(bob, await send(alice, "two"), "two", actor("alice"));
  });
});

/** Five actors with two devices each; the first device of the first actor creates the conversation. */
async function fiveByTwo() {
  const directory = new Directory();
  const names = ["alice", "bob", "carol", "dave", "erin"];
  const devices: Device[][] = [];
  for (const name of names)
    devices.push([await device(directory, actor(name)), await device(directory, actor(name))]);
  const all = devices.flat();
  const [creator, ...rest] = all as [Device, ...Device[]];
  const created = await createConversation(context(directory, creator), { members: names.map(actor) });
  creator.conversation = created.conversation;
  for (const d of rest) await join(d, created.welcome);
  return { directory, names, devices, all, creator, rest };
}

describe("group of 5 actors with 2 devices each", () => {
  it("puts all ten devices (the creator's other device too) in one epoch and delivers to each", async () => {
    const { all, creator, rest } = await fiveByTwo();
    expect(members(conv(creator))).toHaveLength(10);
    for (const d of rest) expect(epochOf(conv(d))).toBe(epochOf(conv(creator)));
    const message = await send(rest[4] as Device, "hi all");
    for (const d of all) {
      if (d === rest[4]) continue;
      await expectText(d, message, "hi all", actor("carol"));
    }
  });

  it("adds an actor with all its devices, removes one, and a member leaves", async () => {
    const { directory, all, creator } = await fiveByTwo();
    const frank = [await device(directory, actor("frank")), await device(directory, actor("frank"))];
    const added = await addMembers(context(directory, creator), conv(creator), [actor("frank")]);
    expect(added.added.map((m) => m.actorId)).toEqual([actor("frank"), actor("frank")]);
    expect(added.welcomeRecipients).toEqual([actor("frank")]);
    expect(added.commitRecipients).toContain(actor("alice")); // the creator's other device
    creator.conversation = added.conversation;
    await distribute(added, all.slice(1), frank);
    const everyone = [...all, ...frank];
    expect(members(conv(frank[1] as Device))).toHaveLength(12);

    const removed = await removeMembers(context(directory, creator), conv(creator), [actor("bob")]);
    expect(removed.removed.map((m) => m.actorId)).toEqual([actor("bob"), actor("bob")]);
    creator.conversation = removed.conversation;
    for (const d of everyone.slice(1)) {
      const r = await receive(d, removed.commit, removed.published);
      expect(r.kind === "commit" && r.removedSelf).toBe(d.identity.actorId === actor("bob"));
    }
    const bob = everyone.filter((d) => d.identity.actorId === actor("bob"));
    const remaining = everyone.filter((d) => d.identity.actorId !== actor("bob"));
    const afterRemoval = await send(creator, "bob is gone");
    for (const b of bob) expect((await refusal(b, afterRemoval)).code).toBe("not_member");
    for (const d of remaining.slice(1)) await expectText(d, afterRemoval, "bob is gone", actor("alice"));

    // dave's second device leaves: a self-remove proposal, committed by another member.
    const leaver = remaining.find(
      (d) => d.identity.actorId === actor("dave") && d !== remaining[0],
    ) as Device;
    const left = await leaveConversation(conv(leaver));
    leaver.conversation = left.conversation;
    const committer = remaining[2] as Device;
    for (const d of remaining) {
      if (d === leaver) continue;
      const r = await receive(d, left.proposal);
      expect(r.kind === "proposal" && r.proposal.kind === "remove" && r.proposal.selfRemove).toBe(true);
    }
    const committed = await commitPendingProposals(context(directory, committer), conv(committer));
    expect(committed.removed.map((m) => m.actorId)).toEqual([actor("dave")]);
    committer.conversation = committed.conversation;
    for (const d of remaining) {
      if (d === committer) continue;
      const r = await receive(d, committed.commit, committed.published);
      expect(r.kind === "commit" && r.removedSelf).toBe(d === leaver);
    }
    expect(members(conv(creator))).toHaveLength(9);
    const last = await send(committer, "bye dave");
    expect((await refusal(leaver, last)).code).toBe("not_member");
    await expectText(creator, last, "bye dave", committer.identity.actorId);
  });
});

describe("ordering within and across epochs", () => {
  async function pair() {
    const directory = new Directory();
    const alice = await device(directory, actor("alice"));
    const bob = await device(directory, actor("bob"));
    await startConversation(directory, alice, [bob]);
    return { directory, alice, bob };
  }

  it("reads messages out of order within an epoch and rejects a replay", async () => {
    const { alice, bob } = await pair();
    const sent = [];
    for (const n of [1, 2, 3, 4]) sent.push(await send(alice, `m${n}`));
    const [m1, m2, m3, m4] = sent as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    await expectText(bob, m3, "m3", actor("alice"));
    await expectText(bob, m1, "m1", actor("alice"));
    await expectText(bob, m4, "m4", actor("alice"));
    await expectText(bob, m2, "m2", actor("alice"));
    for (const replay of sent) expect((await refusal(bob, replay)).code).toBe("duplicate");
    // A device's own message coming back is a duplicate too, not a failure.
    expect((await refusal(alice, m1)).code).toBe("duplicate");
  });

  it("holds a message for a future epoch and applies it after the commit", async () => {
    const { directory, alice, bob } = await pair();
    const update = await updateConversation(context(directory, alice), conv(alice));
    alice.conversation = update.conversation;
    const early = await send(alice, "after the update");
    const held = await refusal(bob, early);
    expect(held).toBeInstanceOf(FutureEpochError);
    expect((held as FutureEpochError).epoch).toBe(epochOf(conv(bob)) + 1n);
    await receive(bob, update.commit, update.published);
    await expectText(bob, early, "after the update", actor("alice"));
    expect((await refusal(alice, update.commit)).code).toBe("self_commit_echo");
    expect((await refusal(bob, update.commit)).code).toBe("duplicate");
  });

  it("reads a late message of the previous epoch, and refuses commits of past epochs", async () => {
    const { directory, alice, bob } = await pair();
    const late = await send(alice, "sent before the update");
    const first = await updateConversation(context(directory, bob), conv(bob));
    bob.conversation = first.conversation;
    await receive(alice, first.commit, first.published);
    await expectText(bob, late, "sent before the update", actor("alice"));
    const second = await updateConversation(context(directory, alice), conv(alice));
    alice.conversation = second.conversation;
    await receive(bob, second.commit, second.published);
    expect((await refusal(alice, first.commit)).code).toBe("stale");
  });
});

describe("concurrent commits to one epoch", () => {
  it("converge on one winner everywhere; the loser re-applies its change; all can then talk", async () => {
    const directory = new Directory();
    const alice = await device(directory, actor("alice"));
    const bob = await device(directory, actor("bob"));
    const carol = await device(directory, actor("carol"));
    const dave = await device(directory, actor("dave"));
    await startConversation(directory, alice, [bob, carol]);
    const start = epochOf(conv(alice));

    // alice adds dave while bob updates, both from the same epoch, bob's commit published first.
    const t = Date.now();
    const byBob = await updateConversation({ ...context(directory, bob), time: new Date(t) }, conv(bob));
    bob.conversation = byBob.conversation;
    const byAlice = await addMembers(
      { ...context(directory, alice), time: new Date(t + 1000) },
      conv(alice),
      [actor("dave")],
    );
    alice.conversation = byAlice.conversation;

    // carol sees alice's first, then bob's: she switches to bob's.
    await receive(carol, byAlice.commit, byAlice.published);
    const switched = await receive(carol, byBob.commit, byBob.published);
    expect(switched.kind).toBe("commit");
    expect(switched.kind === "commit" && switched.superseded).toBeUndefined();
    // bob keeps his: alice's loses.
    expect((await refusal(bob, byAlice.commit, byAlice.published)).code).toBe("stale");
    // alice loses, returns to the shared epoch, applies bob's, and is told to add dave again.
    const lost = await receive(alice, byBob.commit, byBob.published);
    expect(lost.kind === "commit" && lost.superseded).toEqual({ kind: "add", actors: [actor("dave")] });
    for (const d of [alice, bob, carol]) expect(epochOf(conv(d))).toBe(start + 1n);
    const secret = (d: Device) => Buffer.from(conv(d).state.keySchedule.epochAuthenticator).toString("hex");
    expect(secret(alice)).toBe(secret(bob));
    expect(secret(carol)).toBe(secret(bob));

    if (lost.kind !== "commit" || lost.superseded === undefined) return;
    const again = await reapplyIntent(context(directory, alice), conv(alice), lost.superseded);
    if (again === undefined) throw new Error("the add was lost");
    alice.conversation = again.conversation;
    await distribute(again, [bob, carol], [dave]);
    for (const d of [alice, bob, carol, dave]) expect(epochOf(conv(d))).toBe(start + 2n);
    const hello = await send(dave, "hello from dave");
    for (const d of [alice, bob, carol]) await expectText(d, hello, "hello from dave", actor("dave"));
    const reply = await send(bob, "welcome dave");
    for (const d of [alice, carol, dave]) await expectText(d, reply, "welcome dave", actor("bob"));
  });
});

describe("concurrent commits with the same published time", () => {
  it("are ordered by the hash of their bytes, alike on every member", async () => {
    const directory = new Directory();
    const [alice, bob, carol] = [
      await device(directory, actor("alice")),
      await device(directory, actor("bob")),
      await device(directory, actor("carol")),
    ];
    await startConversation(directory, alice, [bob, carol]);
    const time = new Date();
    const byAlice = await removeMembers({ ...context(directory, alice), time }, conv(alice), [
      actor("carol"),
    ]);
    alice.conversation = byAlice.conversation;
    const byBob = await updateConversation({ ...context(directory, bob), time }, conv(bob));
    bob.conversation = byBob.conversation;
    const [winner, loser] = commitPrecedes(
      { published: time.getTime(), ref: sha256Hex(byAlice.commit) },
      { published: time.getTime(), ref: sha256Hex(byBob.commit) },
    )
      ? [
          { device: alice, outcome: byAlice },
          { device: bob, outcome: byBob },
        ]
      : [
          { device: bob, outcome: byBob },
          { device: alice, outcome: byAlice },
        ];
    // carol sees the loser first.
    await receive(carol, loser.outcome.commit, time);
    const settled = await receive(carol, winner.outcome.commit, time);
    expect(settled.kind === "commit" && settled.removedSelf).toBe(winner.device === alice);
    expect((await refusal(winner.device, loser.outcome.commit, time)).code).toBe("stale");
    const lost = await receive(loser.device, winner.outcome.commit, time);
    expect(lost.kind === "commit" && lost.superseded).toEqual(
      loser.device === alice ? { kind: "remove", actors: [actor("carol")] } : { kind: "update" },
    );
    const tag = (d: Device) => Buffer.from(conv(d).state.keySchedule.epochAuthenticator).toString("hex");
    expect(tag(loser.device)).toBe(tag(winner.device));
    await expectText(
      loser.device,
      await send(winner.device, "settled"),
      "settled",
      winner.device.identity.actorId,
    );
  });
});

describe("a removal on the losing side of a fork", () => {
  it("is undone for the removed member when the winning commit arrives", async () => {
    const directory = new Directory();
    const [alice, bob, carol] = [
      await device(directory, actor("alice")),
      await device(directory, actor("bob")),
      await device(directory, actor("carol")),
    ];
    await startConversation(directory, alice, [bob, carol]);
    const t = Date.now();
    const byBob = await updateConversation({ ...context(directory, bob), time: new Date(t) }, conv(bob));
    bob.conversation = byBob.conversation;
    const byAlice = await removeMembers(
      { ...context(directory, alice), time: new Date(t + 1) },
      conv(alice),
      [actor("carol")],
    );
    alice.conversation = byAlice.conversation;
    const removed = await receive(carol, byAlice.commit, byAlice.published);
    expect(removed.kind === "commit" && removed.removedSelf).toBe(true);
    const restored = await receive(carol, byBob.commit, byBob.published);
    expect(restored.kind === "commit" && restored.removedSelf).toBe(false);
    const lost = await receive(alice, byBob.commit, byBob.published);
    expect(lost.kind === "commit" && lost.superseded).toEqual({ kind: "remove", actors: [actor("carol")] });
    await expectText(carol, await send(bob, "still here?"), "still here?", actor("bob"));
    // alice re-applies the removal in the winning epoch; now it sticks.
    if (lost.kind !== "commit" || lost.superseded === undefined) return;
    const again = await reapplyIntent(context(directory, alice), conv(alice), lost.superseded);
    if (again === undefined) throw new Error("the removal was lost");
    alice.conversation = again.conversation;
    const final = await receive(carol, again.commit, again.published);
    expect(final.kind === "commit" && final.removedSelf).toBe(true);
  });
});

describe("Authentication Service", () => {
  it("refuses a KeyPackage whose credential names another actor", async () => {
    const directory = new Directory();
    const alice = await device(directory, actor("alice"));
    const mallory = await generateDeviceIdentity(actor("mallory"));
    const forged = await generateKeyPackages(mallory, { count: 1, lastResort: false, time: new Date() });
    directory.lists.set(
      actor("bob"),
      forged.map((p) => p.keyPackage),
    );
    const attempt = createConversation(context(directory, alice), { members: [actor("bob")] });
    await expect(attempt).rejects.toMatchObject({ code: "authentication_failed" });
  });

  it("refuses a KeyPackage missing from the actor's collection", async () => {
    const directory = new Directory();
    const alice = await device(directory, actor("alice"));
    await device(directory, actor("bob"));
    const unlisted = await generateKeyPackages(await generateDeviceIdentity(actor("bob")), {
      count: 1,
      lastResort: false,
      time: new Date(),
    });
    const attempt = createConversation(context(directory, alice), {
      members: [{ actorId: actor("bob"), keyPackages: unlisted.map((p) => p.keyPackage) }],
    });
    await expect(attempt).rejects.toMatchObject({ code: "authentication_failed" });
  });

  it("refuses an expired KeyPackage and an actor that lists none", async () => {
    const directory = new Directory();
    const alice = await device(directory, actor("alice"));
    const bob = await generateDeviceIdentity(actor("bob"));
    const old = await generateKeyPackages(bob, {
      count: 1,
      lastResort: false,
      lifetimeSeconds: 60,
      time: new Date(Date.now() - 3 * 3600_000),
    });
    directory.publish(
      actor("bob"),
      old.map((p) => p.keyPackage),
    );
    await expect(
      createConversation(context(directory, alice), { members: [actor("bob")] }),
    ).rejects.toMatchObject({
      code: "authentication_failed",
    });
    await expect(
      createConversation(context(directory, alice), { members: [actor("nobody")] }),
    ).rejects.toMatchObject({
      code: "authentication_failed",
    });
  });

  it("refuses a commit whose UpdatePath gives a member another actor's identity", async () => {
    const directory = new Directory();
    const alice = await device(directory, actor("alice"));
    const bob = await device(directory, actor("bob"));
    const mallory = await device(directory, actor("mallory"));
    await startConversation(directory, alice, [bob, mallory]);
    // Mallory's client rewrites its own leaf to claim alice's identity, then commits an update.
    const state = conv(mallory).state;
    const own = state.privatePath.leafIndex * 2;
    const ratchetTree = state.ratchetTree.map((node, i) =>
      i === own && node?.nodeType === "leaf"
        ? {
            ...node,
            leaf: {
              ...node.leaf,
              credential: { credentialType: "basic" as const, identity: text(actor("alice")) },
            },
          }
        : node,
    );
    const forged = await updateConversation(context(directory, mallory), {
      ...conv(mallory),
      state: { ...state, ratchetTree },
    });
    const before = encodeConversation(conv(bob));
    expect((await refusal(bob, forged.commit, forged.published)).code).toBe("authentication_failed");
    expect(encodeConversation(conv(bob))).toEqual(before);
  });

  it("a Welcome for someone else's KeyPackage is not for this device", async () => {
    const directory = new Directory();
    const alice = await device(directory, actor("alice"));
    await device(directory, actor("bob"));
    const eve = await device(directory, actor("eve"));
    const created = await createConversation(context(directory, alice), { members: [actor("bob")] });
    const joined = await joinConversation(eve.identity, created.welcome as Uint8Array, eve.pool);
    expect(joined.ok).toBe(false);
    if (!joined.ok) expect(joined.error.code).toBe("welcome_not_for_device");
  });
});

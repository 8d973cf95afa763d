// The engine's smaller parts: identities, KeyPackage pools, suite negotiation, message headers, framing options.
import { encodeMlsMessage } from "ts-mls";
import { decodeKeyPackage } from "ts-mls/keyPackage.js";
import { describe, expect, it } from "vitest";
import {
  type ActorFetcher,
  addMembers,
  createConversation,
  DEFAULT_SUITE,
  decodeConversation,
  decodeDeviceIdentity,
  encodeConversation,
  encodeDeviceIdentity,
  encryptMessage,
  epochOf,
  generateDeviceIdentity,
  generateKeyPackages,
  joinConversation,
  negotiateSuite,
  processMessage,
  readKeyPackage,
  readMessageHeader,
  readMlsMessage,
  updateConversation,
} from "./index.js";

const actor = (name: string) => `https://example.test/users/${name}`;
const mls3 = "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519";

describe("device identity", () => {
  it("round-trips through its versioned stored form and refuses other bytes", async () => {
    const device = await generateDeviceIdentity(actor("alice"));
    const decoded = decodeDeviceIdentity(encodeDeviceIdentity(device));
    expect(decoded.ok && decoded.value).toEqual(device);
    const wrongVersion = encodeDeviceIdentity(device).slice();
    wrongVersion[0] = 9;
    expect(decodeDeviceIdentity(wrongVersion)).toMatchObject({ ok: false, error: { code: "malformed" } });
  });
});

describe("KeyPackage pool", () => {
  it("makes count single-use packages and one last-resort package with real lifetimes", async () => {
    const device = await generateDeviceIdentity(actor("alice"));
    const time = new Date("2026-11-22T00:00:00Z");
    const pool = await generateKeyPackages(device, { count: 3, time, lifetimeSeconds: 7 * 24 * 3600 });
    expect(pool.map((p) => p.lastResort)).toEqual([false, false, false, true]);
    expect(new Set(pool.map((p) => p.ref)).size).toBe(4);
    for (const p of pool) {
      expect(p.suite).toBe(DEFAULT_SUITE);
      expect(p.notAfter.getTime() - time.getTime()).toBe(7 * 24 * 3600 * 1000);
      expect(p.notBefore.getTime()).toBeLessThan(time.getTime());
      const kp = readKeyPackage(p.keyPackage);
      if (!kp.ok) throw kp.error;
      expect(
        new TextDecoder().decode((kp.value.leafNode.credential as { identity: Uint8Array }).identity),
      ).toBe(actor("alice"));
      expect(kp.value.leafNode.signaturePublicKey).toEqual(device.signaturePublicKey);
      expect(kp.value.leafNode.lifetime?.notAfter).toBe(BigInt(p.notAfter.getTime() / 1000));
    }
    // Raw bytes, as published; the framed form reads too.
    expect(decodeKeyPackage(pool[0]?.keyPackage as Uint8Array, 0)).toBeDefined();
    expect(readMlsMessage(pool[0]?.keyPackage as Uint8Array).ok).toBe(false);
  });

  it("lets a Welcome consume the last-resort package and says so", async () => {
    const alice = await generateDeviceIdentity(actor("alice"));
    const bob = await generateDeviceIdentity(actor("bob"));
    const pool = await generateKeyPackages(bob, { count: 0, time: new Date() });
    const fetcher: ActorFetcher = { keyPackagesOf: async () => pool.map((p) => p.keyPackage) };
    const created = await createConversation(
      { device: alice, fetcher, time: new Date() },
      { members: [actor("bob")] },
    );
    const joined = await joinConversation(bob, created.welcome as Uint8Array, pool);
    if (!joined.ok) throw joined.error;
    expect(joined.value.lastResort).toBe(true);
    expect(joined.value.keyPackageRef).toBe(pool[0]?.ref);
  });
});

describe("suite negotiation", () => {
  it("picks the first preference every device offers, else suite 1", () => {
    expect(negotiateSuite([[DEFAULT_SUITE], [DEFAULT_SUITE, mls3]])).toBe(DEFAULT_SUITE);
    expect(negotiateSuite([[mls3, DEFAULT_SUITE], [mls3]], [mls3, DEFAULT_SUITE])).toBe(mls3);
    expect(negotiateSuite([[mls3], [DEFAULT_SUITE]], [mls3, DEFAULT_SUITE])).toBe(DEFAULT_SUITE);
    expect(negotiateSuite([[mls3]], [])).toBe(DEFAULT_SUITE);
  });
});

describe("conversations", () => {
  async function setup(handshake: "private" | "public") {
    const alice = await generateDeviceIdentity(actor("alice"));
    const bob = await generateDeviceIdentity(actor("bob"));
    const carol = await generateDeviceIdentity(actor("carol"));
    const pools = {
      [actor("bob")]: await generateKeyPackages(bob, { count: 1, time: new Date() }),
      [actor("carol")]: await generateKeyPackages(carol, { count: 1, time: new Date() }),
    };
    const fetcher: ActorFetcher = { keyPackagesOf: async (a) => (pools[a] ?? []).map((p) => p.keyPackage) };
    const ctx = { device: alice, fetcher, time: new Date() };
    const created = await createConversation(ctx, {
      members: [actor("bob")],
      handshake,
      groupId: "urn:uuid:1",
    });
    const joined = await joinConversation(bob, created.welcome as Uint8Array, pools[actor("bob")] ?? []);
    if (!joined.ok) throw joined.error;
    return { ctx, carol, pools, alice: created.conversation, bob: joined.value.conversation };
  }

  it("sends handshakes as PublicMessage when the conversation asks for it", async () => {
    const { ctx, carol, pools, alice, bob } = await setup("public");
    expect(alice.groupId).toBe("urn:uuid:1");
    const added = await addMembers(ctx, alice, [actor("carol")]);
    const commit = readMlsMessage(added.commit);
    expect(commit.ok && commit.value.wireformat).toBe("mls_public_message");
    const received = await processMessage(bob, { bytes: added.commit, published: added.published });
    expect(
      received.ok && received.value.kind === "commit" && received.value.added.map((m) => m.actorId),
    ).toEqual([actor("carol")]);
    // Handed the decoded message (as a reader of envelopes has it), the result is the same.
    if (!commit.ok) throw commit.error;
    const again = await processMessage(bob, {
      bytes: added.commit,
      message: commit.value,
      published: added.published,
    });
    expect(again.ok && again.value.kind === "commit" && epochOf(again.value.conversation)).toBe(
      received.ok && epochOf(received.value.conversation),
    );
    const joined = await joinConversation(carol, added.welcome as Uint8Array, pools[actor("carol")] ?? []);
    expect(joined.ok && epochOf(joined.value.conversation)).toBe(epochOf(added.conversation));

    // The same commit claiming to come from a leaf nobody holds.
    if (!commit.ok || commit.value.wireformat !== "mls_public_message") return;
    const { publicMessage } = commit.value;
    const forged = encodeMlsMessage({
      ...commit.value,
      publicMessage: {
        ...publicMessage,
        content: { ...publicMessage.content, sender: { senderType: "member", leafIndex: 7 } },
      },
    });
    expect(await processMessage(bob, { bytes: forged })).toMatchObject({
      ok: false,
      error: { code: "not_member" },
    });
  });

  it("invites this actor's own other devices, and needs none", async () => {
    const alice = await generateDeviceIdentity(actor("alice"));
    const bob = await generateDeviceIdentity(actor("bob"));
    const bobPool = await generateKeyPackages(bob, { count: 1, time: new Date() });
    const listed = new Map([[actor("bob"), bobPool.map((p) => p.keyPackage)]]);
    const fetcher: ActorFetcher = { keyPackagesOf: async (a) => listed.get(a) ?? [] };
    const alone = await createConversation(
      { device: alice, fetcher, time: new Date() },
      { members: [actor("alice"), actor("bob")] },
    );
    expect(alone.welcomeRecipients).toEqual([actor("bob")]);
    const laptop = await generateDeviceIdentity(actor("alice"));
    const laptopPool = await generateKeyPackages(laptop, { count: 1, time: new Date() });
    const ownPool = await generateKeyPackages(alice, { count: 1, time: new Date() });
    listed.set(
      actor("alice"),
      [...ownPool, ...laptopPool].map((p) => p.keyPackage),
    );
    const both = await createConversation(
      { device: alice, fetcher, time: new Date() },
      { members: [actor("alice"), actor("bob")] },
    );
    expect(both.added.map((m) => m.actorId).sort()).toEqual([actor("alice"), actor("bob")]);
    expect(both.added.some((m) => Buffer.from(m.signaturePublicKey).equals(laptop.signaturePublicKey))).toBe(
      true,
    );
  });

  it("reads the clear header of a message, and refuses one for another group", async () => {
    const { ctx, alice, bob } = await setup("private");
    const sent = await encryptMessage(alice, new TextEncoder().encode("hi"));
    expect(readMessageHeader(sent.message)).toEqual({
      ok: true,
      value: {
        wireformat: "mls_private_message",
        groupId: "urn:uuid:1",
        epoch: 1n,
        contentType: "application",
      },
    });
    const other = await createConversation(ctx, { members: [] });
    const stray = await encryptMessage(other.conversation, new TextEncoder().encode("elsewhere"));
    expect(await processMessage(bob, { bytes: stray.message })).toMatchObject({
      ok: false,
      error: { code: "wrong_group" },
    });
    expect(await processMessage(bob, { bytes: other.conversation.state.groupContext.groupId })).toMatchObject(
      {
        ok: false,
        error: { code: "malformed" },
      },
    );
  });

  it("refuses application data of an epoch whose keys are gone", async () => {
    let { ctx, alice, bob } = await setup("private");
    const old = await encryptMessage(alice, new TextEncoder().encode("very late"));
    alice = old.conversation;
    for (let i = 0; i < 6; i++) {
      const update = await updateConversation(ctx, alice);
      alice = update.conversation;
      const received = await processMessage(bob, { bytes: update.commit, published: update.published });
      if (!received.ok) throw received.error;
      bob = received.value.conversation;
    }
    expect(await processMessage(bob, { bytes: old.message })).toMatchObject({
      ok: false,
      error: { code: "epoch_too_old" },
    });
  });

  it("keeps the pre-commit state through the stored form, so a fork can still be settled", async () => {
    const { ctx, alice } = await setup("private");
    const update = await updateConversation(ctx, alice);
    const stored = decodeConversation(encodeConversation(update.conversation));
    if (!stored.ok) throw stored.error;
    expect(stored.value.lastCommit?.byThisDevice).toBe(true);
    expect(stored.value.lastCommit?.intent).toEqual({ kind: "update" });
    expect(stored.value.lastCommit?.epoch).toBe(epochOf(alice));
    expect(stored.value.lastCommit?.published).toBe(ctx.time.getTime());
    expect(encodeConversation(stored.value)).toEqual(encodeConversation(update.conversation));
    expect(await processMessage(stored.value, { bytes: update.commit })).toMatchObject({
      ok: false,
      error: { code: "self_commit_echo" },
    });
  });
});

// The Authentication Service for leaves already in a group (DESIGN.md §3.1): three outcomes per leaf, and the
// Welcome's committer that the receiving app compares with the activity's actor.
import { describe, expect, it } from "vitest";
import {
  type ActorFetcher,
  authenticateLeaves,
  createConversation,
  type DeviceKeyDirectory,
  generateDeviceIdentity,
  generateKeyPackages,
  joinConversation,
  members,
  publishedSignatureKeys,
} from "./index.js";

const actor = (name: string) => `https://example.test/users/${name}`;
const time = new Date();

/** Actors' `keyPackages` as their servers would list them. */
function listing(entries: Record<string, readonly Uint8Array[]>): ActorFetcher {
  return { keyPackagesOf: async (actorId) => entries[actorId] ?? [] };
}

const directoryOf = (fetcher: ActorFetcher): DeviceKeyDirectory => ({
  signatureKeysOf: (actorId) => publishedSignatureKeys(fetcher, actorId),
});

describe("authenticateLeaves", () => {
  it("authenticates a listed key, contradicts another key in the same name, cannot check an empty listing", async () => {
    const alice = await generateDeviceIdentity(actor("alice"));
    const forger = await generateDeviceIdentity(actor("alice"));
    const carol = await generateDeviceIdentity(actor("carol"));
    const [alicePackage] = await generateKeyPackages(alice, { count: 1, lastResort: false, time });
    // A KeyPackage alice's server lists that names someone else, and one whose signature was tampered with:
    // neither vouches for a key.
    const [elsewhere] = await generateKeyPackages(await generateDeviceIdentity(actor("dave")), {
      count: 1,
      time,
    });
    const [tampered] = await generateKeyPackages(forger, { count: 1, lastResort: false, time });
    if (!alicePackage || !elsewhere || !tampered) throw new Error("no KeyPackages");
    const broken = tampered.keyPackage.slice();
    broken[broken.length - 1] = (broken.at(-1) ?? 0) ^ 1;
    const fetcher = listing({ [actor("alice")]: [alicePackage.keyPackage, elsewhere.keyPackage, broken] });
    const leaf = (d: typeof alice, leafIndex: number) => ({
      leafIndex,
      actorId: d.actorId,
      signaturePublicKey: d.signaturePublicKey,
    });
    const checked = await authenticateLeaves(directoryOf(fetcher), [
      leaf(alice, 0),
      leaf(forger, 1),
      leaf(carol, 2),
    ]);
    expect(checked.map((c) => [c.member.leafIndex, c.authentication])).toEqual([
      [0, "authenticated"],
      [1, "contradicted"],
      [2, "uncheckable"],
    ]);
  });

  it("calls a leaf uncheckable when its actor's listing cannot be read, or its name is no URL", async () => {
    const bob = await generateDeviceIdentity(actor("bob"));
    const unreachable: DeviceKeyDirectory = {
      signatureKeysOf: async () => {
        throw new Error("connection refused");
      },
    };
    const checked = await authenticateLeaves(unreachable, [
      { leafIndex: 0, actorId: bob.actorId, signaturePublicKey: bob.signaturePublicKey },
      { leafIndex: 1, actorId: "not a url", signaturePublicKey: bob.signaturePublicKey },
    ]);
    expect(checked.map((c) => c.authentication)).toEqual(["uncheckable", "uncheckable"]);
  });
});

describe("joinConversation", () => {
  it("names the Welcome's committer: the member who signed its GroupInfo", async () => {
    const [alice, bob, carol] = await Promise.all(
      ["alice", "bob", "carol"].map((n) => generateDeviceIdentity(actor(n))),
    );
    if (!alice || !bob || !carol) throw new Error("no devices");
    const bobPool = await generateKeyPackages(bob, { count: 1, time });
    const carolPool = await generateKeyPackages(carol, { count: 1, time });
    const fetcher = listing({
      [bob.actorId]: bobPool.map((p) => p.keyPackage),
      [carol.actorId]: carolPool.map((p) => p.keyPackage),
    });
    const made = await createConversation(
      { device: alice, fetcher, time },
      { members: [bob.actorId, carol.actorId] },
    );
    const joined = await joinConversation(bob, made.welcome as Uint8Array, bobPool);
    if (!joined.ok) throw joined.error;
    expect(joined.value.committer.actorId).toBe(alice.actorId);
    expect(joined.value.committer.signaturePublicKey).toEqual(alice.signaturePublicKey);
    expect(members(joined.value.conversation).map((m) => m.actorId)).toContain(carol.actorId);
  });
});

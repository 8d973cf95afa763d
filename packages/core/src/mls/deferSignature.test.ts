// processMessage's `deferSignature`: an application message decrypted with its signature left to the caller
// gives what full processing gives, and a forged signature is caught by verifyDeferredSignature.
import { describe, expect, it } from "vitest";
import {
  type ActorFetcher,
  type Conversation,
  createConversation,
  encodeConversation,
  encryptMessage,
  generateDeviceIdentity,
  generateKeyPackages,
  joinConversation,
  leaveConversation,
  processMessage,
  verifyDeferredSignature,
} from "./index.js";

const actor = (name: string) => `https://example.test/users/${name}`;
const text = (s: string) => new TextEncoder().encode(s);
const hex = (c: Conversation) => Buffer.from(encodeConversation(c)).toString("hex");

async function setup() {
  const alice = await generateDeviceIdentity(actor("alice"));
  const bob = await generateDeviceIdentity(actor("bob"));
  const pool = await generateKeyPackages(bob, { count: 1, time: new Date() });
  const fetcher: ActorFetcher = { keyPackagesOf: async () => pool.map((p) => p.keyPackage) };
  const ctx = { device: alice, fetcher, time: new Date() };
  const created = await createConversation(ctx, { members: [actor("bob")] });
  const joined = await joinConversation(bob, created.welcome as Uint8Array, pool);
  if (!joined.ok) throw joined.error;
  return { ctx, alice: created.conversation, bob: joined.value.conversation };
}

/** Alice's conversation signing with a key that is not her leaf's: the message decrypts, its signature is false. */
async function forger(alice: Conversation): Promise<Conversation> {
  const other = await generateDeviceIdentity(actor("mallory"));
  return { ...alice, state: { ...alice.state, signaturePrivateKey: other.signaturePrivateKey } };
}

describe("processMessage with deferSignature", () => {
  it("gives the data, sender and state full processing gives, with the signature to check", async () => {
    const { alice, bob } = await setup();
    const sent = await encryptMessage(alice, text("hello"));
    const full = await processMessage(bob, { bytes: sent.message });
    const deferred = await processMessage(bob, { bytes: sent.message }, { deferSignature: true });
    if (!full.ok || full.value.kind !== "application") throw new Error("not processed");
    if (!deferred.ok || deferred.value.kind !== "application") throw new Error("not processed");
    expect(full.value.unverified).toBeUndefined();
    expect(new TextDecoder().decode(deferred.value.data)).toBe("hello");
    expect(deferred.value.sender).toEqual(full.value.sender);
    expect(hex(deferred.value.conversation)).toBe(hex(full.value.conversation));
    const unverified = deferred.value.unverified;
    if (unverified === undefined) throw new Error("no signature left to check");
    expect(unverified.publicKey).toEqual(full.value.sender.signaturePublicKey);
    expect(await verifyDeferredSignature(bob, unverified)).toBe(true);
    // The signature covers the content: one bit changed in it, or in the signature, no longer verifies.
    const content = unverified.content.slice();
    content[content.length - 1] = (content[content.length - 1] as number) ^ 1;
    expect(await verifyDeferredSignature(bob, { ...unverified, content })).toBe(false);
    const signature = unverified.signature.slice();
    signature[0] = (signature[0] as number) ^ 1;
    expect(await verifyDeferredSignature(bob, { ...unverified, signature })).toBe(false);
  });

  it("decrypts a forged signature that only verifyDeferredSignature refuses", async () => {
    const { alice, bob } = await setup();
    const forged = await encryptMessage(await forger(alice), text("not from alice's key"));
    expect(await processMessage(bob, { bytes: forged.message })).toMatchObject({
      ok: false,
      error: { code: "undecryptable" },
    });
    const deferred = await processMessage(bob, { bytes: forged.message }, { deferSignature: true });
    if (!deferred.ok || deferred.value.kind !== "application") throw new Error("not decrypted");
    const unverified = deferred.value.unverified;
    if (unverified === undefined) throw new Error("no signature left to check");
    expect(await verifyDeferredSignature(bob, unverified)).toBe(false);
  });

  it("verifies a proposal's signature itself: only application messages are deferred", async () => {
    const { alice, bob } = await setup();
    // A Remove proposal carries one signature, as application data does: deferring it would accept the forgery.
    const leave = await leaveConversation(await forger(alice));
    expect(await processMessage(bob, { bytes: leave.proposal }, { deferSignature: true })).toMatchObject({
      ok: false,
      error: { code: "undecryptable" },
    });
    expect(await processMessage(bob, { bytes: (await leaveConversation(alice)).proposal })).toMatchObject({
      ok: true,
      value: { kind: "proposal" },
    });
  });
});

import { createHash, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { deviceFingerprint } from "./device.js";
import { safetyNumber } from "./safetyNumber.js";

/** A real Ed25519 public key, raw (the form MLS leaf nodes carry). */
function ed25519PublicKey(): Uint8Array {
  const { publicKey } = generateKeyPairSync("ed25519");
  return new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(-32));
}

const ALICE = "https://a.example/users/alice";
const BOB = "https://b.example/users/bob";

describe("deviceFingerprint", () => {
  const key = ed25519PublicKey();
  const fingerprint = deviceFingerprint(key);

  it("is the SHA-256 of the raw key, in hex and in groups", () => {
    expect(fingerprint.hex).toBe(createHash("sha256").update(key).digest("hex"));
    expect(fingerprint.hexGroups).toHaveLength(16);
    expect(fingerprint.hexGroups.join("")).toBe(fingerprint.hex);
    expect(fingerprint.digitGroups).toHaveLength(6);
    for (const group of fingerprint.digitGroups) expect(group).toMatch(/^\d{5}$/);
  });

  it("is stable for a key and differs between keys", () => {
    expect(deviceFingerprint(key.slice())).toEqual(fingerprint);
    expect(deviceFingerprint(ed25519PublicKey()).hex).not.toBe(fingerprint.hex);
  });

  it("derives the digits as Signal does (5 bytes big-endian mod 100000)", () => {
    const digest = createHash("sha256").update(key).digest();
    const first = Number(digest.readBigUInt64BE(0) >> 24n) % 100_000;
    expect(fingerprint.digitGroups[0]).toBe(String(first).padStart(5, "0"));
  });
});

describe("safetyNumber", () => {
  const aliceKeys = [ed25519PublicKey(), ed25519PublicKey()];
  const bobKeys = [ed25519PublicKey()];
  const alice = { actor: ALICE, signatureKeys: aliceKeys };
  const bob = { actor: BOB, signatureKeys: bobKeys };
  const number = safetyNumber(alice, bob);

  it("is 60 digits in 12 groups, the same on both sides and whatever the device order", () => {
    expect(number.groups).toHaveLength(12);
    expect(number.text).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(safetyNumber(bob, alice)).toEqual(number);
    expect(safetyNumber({ actor: ALICE, signatureKeys: [...aliceKeys].reverse() }, bob)).toEqual(number);
  });

  it("changes when a key is substituted, a device is added, or the actor differs", () => {
    const substituted = safetyNumber({ actor: BOB, signatureKeys: [ed25519PublicKey()] }, alice);
    expect(substituted.text).not.toBe(number.text);
    const added = safetyNumber({ actor: ALICE, signatureKeys: [...aliceKeys, ed25519PublicKey()] }, bob);
    expect(added.text).not.toBe(number.text);
    const otherActor = safetyNumber(
      { actor: "https://evil.example/users/alice", signatureKeys: aliceKeys },
      bob,
    );
    expect(otherActor.text).not.toBe(number.text);
    // Alice's half is unchanged by Bob's substitution: the half that moved points at the changed side.
    const aliceHalf = safetyNumber(alice, alice).groups.slice(0, 6).join(" ");
    expect(number.text.includes(aliceHalf)).toBe(true);
    expect(substituted.text.includes(aliceHalf)).toBe(true);
  });

  it("refuses an actor without device keys with a typed error", () => {
    expect(() => safetyNumber({ actor: ALICE, signatureKeys: [] }, bob)).toThrow(
      expect.objectContaining({ code: "no_device_keys" }),
    );
  });
});

import { describe, expect, it } from "vitest";
import { readKeyPackageObject, writeKeyPackageObject } from "../envelope/keyPackageObject.js";
import { endorseKeyPackage, endorsementSigner, signerKeyId } from "./endorsement.js";
import { generateDeviceIdentity } from "./identity.js";
import { generateKeyPackages } from "./keyPackages.js";

const ACTOR = "https://a.example/users/alice";
const trusted = await generateDeviceIdentity(ACTOR);
const fresh = await generateDeviceIdentity(ACTOR);
const stranger = await generateDeviceIdentity(ACTOR);
const [kp] = await generateKeyPackages(fresh, { count: 1, lastResort: false, time: new Date() });
const keyPackage = (kp as { keyPackage: Uint8Array }).keyPackage;

describe("KeyPackage endorsement", () => {
  it("verifies an endorsement by a trusted device, named by its fingerprint", async () => {
    const endorsement = await endorseKeyPackage(trusted, keyPackage);
    expect(endorsement.mlsSignerKeyId).toBe(signerKeyId(trusted.signaturePublicKey));
    const signer = await endorsementSigner(keyPackage, fresh.signaturePublicKey, endorsement, [
      stranger.signaturePublicKey,
      trusted.signaturePublicKey,
    ]);
    expect(signer).toEqual(trusted.signaturePublicKey);
  });

  it("refuses a signature over other bytes, by a key not offered, or by the device itself", async () => {
    const [other] = await generateKeyPackages(fresh, { count: 1, lastResort: false, time: new Date() });
    const overOther = await endorseKeyPackage(trusted, (other as { keyPackage: Uint8Array }).keyPackage);
    expect(
      await endorsementSigner(keyPackage, fresh.signaturePublicKey, overOther, [trusted.signaturePublicKey]),
    ).toBeUndefined();
    const byStranger = await endorseKeyPackage(stranger, keyPackage);
    expect(
      await endorsementSigner(keyPackage, fresh.signaturePublicKey, byStranger, [trusted.signaturePublicKey]),
    ).toBeUndefined();
    const self = await endorseKeyPackage(fresh, keyPackage);
    expect(
      await endorsementSigner(keyPackage, fresh.signaturePublicKey, self, [fresh.signaturePublicKey]),
    ).toBeUndefined();
    expect(
      await endorsementSigner(keyPackage, fresh.signaturePublicKey, { mlsSignature: "ZmFrZXNpZw" }, [
        trusted.signaturePublicKey,
      ]),
    ).toBeUndefined();
  });

  it("tries every candidate when the signer id is another client's derivation", async () => {
    const { mlsSignature } = await endorseKeyPackage(trusted, keyPackage);
    const signer = await endorsementSigner(
      keyPackage,
      fresh.signaturePublicKey,
      { mlsSignature, mlsSignerKeyId: "some-opaque-id" },
      [stranger.signaturePublicKey, trusted.signaturePublicKey],
    );
    expect(signer).toEqual(trusted.signaturePublicKey);
  });

  it("is written on the KeyPackage object and read from it or from Bonfire's Add activity", async () => {
    const endorsement = await endorseKeyPackage(trusted, keyPackage);
    const generator = { id: "urn:uuid:00000000-0000-4000-8000-000000000001", name: "test" };
    const object = writeKeyPackageObject({ actor: ACTOR, keyPackage, generator, endorsement });
    expect(object.mlsSignature).toBe(endorsement.mlsSignature);
    const read = readKeyPackageObject(object);
    expect(read.ok && read.value.endorsement).toEqual(endorsement);
    const { mlsSignature: _s, mlsSignerKeyId: _k, ...bare } = object;
    const add = { type: "Add", actor: ACTOR, object: bare, ...endorsement };
    const fromAdd = readKeyPackageObject(add);
    expect(fromAdd.ok && fromAdd.value.endorsement).toEqual(endorsement);
    const unendorsed = readKeyPackageObject(bare);
    expect(unendorsed.ok && unendorsed.value.endorsement).toBeUndefined();
  });
});

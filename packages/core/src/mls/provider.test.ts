// The node:crypto provider must agree bit for bit with ts-mls' own (WebCrypto) provider.
import { createHmac, randomBytes } from "node:crypto";
import { defaultCryptoProvider, getCiphersuiteFromName } from "ts-mls";
import { describe, expect, it } from "vitest";
import { hmac, nodeCryptoProvider, pooledRandomBytes } from "./provider.js";
import { DEFAULT_SUITE } from "./suite.js";

const suite = getCiphersuiteFromName(DEFAULT_SUITE);

describe("nodeCryptoProvider", async () => {
  const ours = await nodeCryptoProvider.getCiphersuiteImpl(suite);
  const theirs = await defaultCryptoProvider.getCiphersuiteImpl(suite);
  const bytes = (n: number) => new Uint8Array(randomBytes(n));

  it("hashes, MACs and derives like the default provider", async () => {
    for (const n of [0, 1, 31, 32, 64, 200]) {
      const data = bytes(n);
      const key = bytes(32);
      expect(await ours.hash.digest(data)).toEqual(await theirs.hash.digest(data));
      const tag = await theirs.hash.mac(key, data);
      expect(await ours.hash.mac(key, data)).toEqual(tag);
      expect(await ours.hash.verifyMac(key, tag, data)).toBe(true);
      expect(await ours.hash.verifyMac(key, bytes(32), data)).toBe(false);
      for (const salt of [new Uint8Array(0), bytes(32)])
        expect(await ours.kdf.extract(salt, data)).toEqual(await theirs.kdf.extract(salt, data));
      for (const len of [12, 16, 32, 33, 100])
        expect(await ours.kdf.expand(key, data, len)).toEqual(await theirs.kdf.expand(key, data, len));
    }
  });

  it("computes HMAC like createHmac for keys shorter than, equal to and longer than the block", () => {
    for (const algorithm of ["sha256", "sha384", "sha512"] as const)
      for (const keyLength of [0, 1, 32, 64, 65, 128, 129, 300]) {
        const key = bytes(keyLength);
        // the last input is longer than the scratch buffer the short ones are hashed in
        const parts = [bytes(0), bytes(7), bytes(keyLength === 300 ? 700 : 100)];
        const expected = createHmac(algorithm, key);
        for (const part of parts) expected.update(part);
        expect(hmac(algorithm, key, ...parts)).toEqual(expected.digest());
      }
  });

  it("hands out random bytes from a pool, each call its own copy, refilling the pool when it runs out", () => {
    const random = pooledRandomBytes();
    const guards = Array.from({ length: 3000 }, () => random(4));
    expect(guards.every((g) => g.length === 4)).toBe(true);
    // 3,000 draws of 32 bits: a repeat is unlikely (p ~ 0.001); 12 KB drawn means the 4 KiB pool refilled twice
    expect(new Set(guards.map((g) => Buffer.from(g).toString("hex"))).size).toBeGreaterThan(2995);
    const first = random(32);
    const copy = first.slice();
    random(32);
    expect(first).toEqual(copy);
    expect(first.some((b) => b !== 0)).toBe(true);
    expect(random(1000).length).toBe(1000);
    expect(random(0).length).toBe(0);
  });

  it("seals and opens AES-128-GCM interchangeably, and refuses a tampered ciphertext", async () => {
    const key = bytes(16);
    const nonce = bytes(12);
    for (const aad of [undefined, new Uint8Array(0), bytes(40)]) {
      const plaintext = bytes(200);
      const sealed = await ours.hpke.encryptAead(key, nonce, aad, plaintext);
      expect(sealed).toEqual(await theirs.hpke.encryptAead(key, nonce, aad, plaintext));
      expect(await theirs.hpke.decryptAead(key, nonce, aad, sealed)).toEqual(plaintext);
      expect(await ours.hpke.decryptAead(key, nonce, aad, sealed)).toEqual(plaintext);
      sealed[3] = (sealed[3] as number) ^ 1;
      await expect(ours.hpke.decryptAead(key, nonce, aad, sealed)).rejects.toThrow();
    }
  });

  it("signs Ed25519 so the default provider verifies, and the other way round", async () => {
    const message = bytes(300);
    for (const [signer, verifier] of [
      [ours, theirs],
      [theirs, ours],
    ] as const) {
      const { signKey, publicKey } = await signer.signature.keygen();
      const signature = await signer.signature.sign(signKey, message);
      expect(await verifier.signature.verify(publicKey, message, signature)).toBe(true);
      expect(await verifier.signature.verify(publicKey, bytes(300), signature)).toBe(false);
    }
    expect(await ours.signature.verify(bytes(5), message, bytes(64))).toBe(false);
  });
});

describe("node HPKE (suite 1)", async () => {
  const ours = await nodeCryptoProvider.getCiphersuiteImpl(suite);
  const theirs = await defaultCryptoProvider.getCiphersuiteImpl(suite);
  const info = new Uint8Array(randomBytes(40));
  const aad = new Uint8Array(randomBytes(20));
  const plaintext = new Uint8Array(randomBytes(100));

  it("seals what @hpke/core opens and opens what it seals, with keys imported either way", async () => {
    for (const [sealer, opener] of [
      [ours, theirs],
      [theirs, ours],
      [ours, ours],
    ] as const) {
      const pair = await theirs.hpke.generateKeyPair();
      const publicRaw = await theirs.hpke.exportPublicKey(pair.publicKey);
      const privateRaw = await theirs.hpke.exportPrivateKey(pair.privateKey);
      const { ct, enc } = await sealer.hpke.seal(
        await sealer.hpke.importPublicKey(publicRaw),
        plaintext,
        info,
        aad,
      );
      const privateKey = await opener.hpke.importPrivateKey(privateRaw);
      expect(await opener.hpke.open(privateKey, enc, ct, info, aad)).toEqual(plaintext);
      expect(await opener.hpke.exportPrivateKey(privateKey)).toEqual(privateRaw);
      await expect(opener.hpke.open(privateKey, enc, ct, info, new Uint8Array(0))).rejects.toThrow();
    }
  });

  it("derives the key pairs @hpke/core derives (RFC 9180 DeriveKeyPair)", async () => {
    for (let i = 0; i < 5; i++) {
      const ikm = new Uint8Array(randomBytes(32));
      const mine = await ours.hpke.deriveKeyPair(ikm);
      const reference = await theirs.hpke.deriveKeyPair(ikm);
      expect(await ours.hpke.exportPrivateKey(mine.privateKey)).toEqual(
        await theirs.hpke.exportPrivateKey(reference.privateKey),
      );
      expect(await ours.hpke.exportPublicKey(mine.publicKey)).toEqual(
        await theirs.hpke.exportPublicKey(reference.publicKey),
      );
      const { ct, enc } = await ours.hpke.seal(mine.publicKey, plaintext, info, aad);
      expect(await theirs.hpke.open(reference.privateKey, enc, ct, info, aad)).toEqual(plaintext);
    }
  });

  it("seals under each info it is given, whatever info came before (info_hash is cached)", async () => {
    const pair = await theirs.hpke.generateKeyPair();
    const publicKey = await ours.hpke.importPublicKey(await theirs.hpke.exportPublicKey(pair.publicKey));
    // the same bytes again as another object, and as a view into a larger buffer
    const view = new Uint8Array(Buffer.concat([Buffer.alloc(3), info])).subarray(3);
    const infos = [info, new Uint8Array(randomBytes(40)), info, new Uint8Array(0), info.slice(), view];
    for (const sealInfo of infos) {
      const { ct, enc } = await ours.hpke.seal(publicKey, plaintext, sealInfo, aad);
      expect(await theirs.hpke.open(pair.privateKey, enc, ct, sealInfo, aad)).toEqual(plaintext);
      for (const other of infos.filter((i) => !Buffer.from(i).equals(sealInfo)))
        await expect(theirs.hpke.open(pair.privateKey, enc, ct, other, aad)).rejects.toThrow();
    }
  });

  it("imports a public key once and keeps returning it for the same bytes", async () => {
    const raw = await theirs.hpke.exportPublicKey((await theirs.hpke.generateKeyPair()).publicKey);
    const first = await ours.hpke.importPublicKey(raw);
    expect(await ours.hpke.importPublicKey(raw.slice())).toBe(first);
    expect(await ours.hpke.exportPublicKey(first)).toEqual(raw);
  });

  it("refuses malformed keys and encapsulations with a CryptoError", async () => {
    await expect(ours.hpke.importPublicKey(new Uint8Array(31))).rejects.toThrow(/32 bytes/);
    const pair = await ours.hpke.generateKeyPair();
    await expect(
      ours.hpke.open(pair.privateKey, new Uint8Array(32), new Uint8Array(40), info),
    ).rejects.toThrow(/HPKE open failed/);
  });
});

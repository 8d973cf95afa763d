// HPKE base mode (RFC 9180) for DHKEM(X25519, HKDF-SHA256) with HKDF-SHA256 and AES-128-GCM (suite 1), on
// node:crypto. ts-mls' default goes through @hpke/core on WebCrypto: every seal awaits a key generation, a
// key import and a key derivation on the thread pool, which makes a commit to N members cost N of those. Keys
// stay WebCrypto CryptoKeys so the rest of ts-mls' HPKE (key export, exporter secrets) keeps working on them.
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  KeyObject,
  type webcrypto,
} from "node:crypto";
import type { Hpke, Kdf } from "ts-mls";
import { CryptoError } from "ts-mls/mlsError.js";

type CryptoKey = webcrypto.CryptoKey;

const encoder = new TextEncoder();
const VERSION = encoder.encode("HPKE-v1");
// kem_id 0x0020, kdf_id 0x0001, aead_id 0x0001
const KEM_SUITE = Uint8Array.of(...encoder.encode("KEM"), 0x00, 0x20);
const HPKE_SUITE = Uint8Array.of(...encoder.encode("HPKE"), 0x00, 0x20, 0x00, 0x01, 0x00, 0x01);
const EMPTY = new Uint8Array(0);
// PKCS#8 prefix of a raw 32-byte X25519 private key.
const X25519_PKCS8_PREFIX = Uint8Array.of(
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
);

const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);
const i2osp2 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);

function rawPublic(key: KeyObject): Uint8Array {
  return new Uint8Array(Buffer.from(key.export({ format: "jwk" }).x as string, "base64url"));
}

/** Key material behind the CryptoKeys this module made, so seal/open need no conversion. */
const known = new WeakMap<CryptoKey, { readonly key: KeyObject; readonly publicRaw: Uint8Array }>();

function material(key: CryptoKey, isPrivate: boolean) {
  let found = known.get(key);
  if (found === undefined) {
    const object = KeyObject.from(key);
    found = { key: object, publicRaw: rawPublic(isPrivate ? createPublicKey(object) : object) };
    known.set(key, found);
  }
  return found;
}

/** Replaces seal, open and the key imports of ts-mls' suite-1 HPKE; `aead` and `kdf` are node:crypto's. */
export function nodeHpke(
  kdf: Kdf,
  aead: Pick<Hpke, "encryptAead" | "decryptAead">,
): Pick<Hpke, "seal" | "open" | "importPublicKey" | "importPrivateKey"> {
  const labeledExtract = (suite: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array) =>
    kdf.extract(salt, concat(VERSION, suite, encoder.encode(label), ikm));
  const labeledExpand = (
    suite: Uint8Array,
    prk: Uint8Array,
    label: string,
    info: Uint8Array,
    length: number,
  ) => kdf.expand(prk, concat(i2osp2(length), VERSION, suite, encoder.encode(label), info), length);

  // DHKEM ExtractAndExpand, then the base-mode key schedule: the AEAD key and nonce of a single-shot context.
  async function keySchedule(dh: Uint8Array, enc: Uint8Array, recipient: Uint8Array, info: Uint8Array) {
    if (dh.every((b) => b === 0)) throw new CryptoError("X25519 shared secret is zero");
    const eaePrk = await labeledExtract(KEM_SUITE, EMPTY, "eae_prk", dh);
    const shared = await labeledExpand(KEM_SUITE, eaePrk, "shared_secret", concat(enc, recipient), 32);
    const pskIdHash = await labeledExtract(HPKE_SUITE, EMPTY, "psk_id_hash", EMPTY);
    const infoHash = await labeledExtract(HPKE_SUITE, EMPTY, "info_hash", info);
    const context = concat(Uint8Array.of(0), pskIdHash, infoHash);
    const secret = await labeledExtract(HPKE_SUITE, shared, "secret", EMPTY);
    return {
      key: await labeledExpand(HPKE_SUITE, secret, "key", context, 16),
      nonce: await labeledExpand(HPKE_SUITE, secret, "base_nonce", context, 12),
    };
  }

  return {
    async importPublicKey(raw) {
      if (raw.length !== 32) throw new CryptoError("X25519 public key must be 32 bytes");
      const key = createPublicKey({
        key: { kty: "OKP", crv: "X25519", x: Buffer.from(raw).toString("base64url") },
        format: "jwk",
      });
      const crypto = key.toCryptoKey("X25519", true, []);
      known.set(crypto, { key, publicRaw: raw.slice() });
      return crypto as Awaited<ReturnType<Hpke["importPublicKey"]>>;
    },
    async importPrivateKey(raw) {
      if (raw.length !== 32) throw new CryptoError("X25519 private key must be 32 bytes");
      const key = createPrivateKey({
        key: Buffer.concat([X25519_PKCS8_PREFIX, raw]),
        format: "der",
        type: "pkcs8",
      });
      const crypto = key.toCryptoKey("X25519", true, ["deriveBits"]);
      known.set(crypto, { key, publicRaw: rawPublic(createPublicKey(key)) });
      return crypto as Awaited<ReturnType<Hpke["importPrivateKey"]>>;
    },
    async seal(publicKey, plaintext, info, aad) {
      const recipient = material(publicKey as CryptoKey, false);
      const ephemeral = generateKeyPairSync("x25519");
      const enc = rawPublic(ephemeral.publicKey);
      const dh = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient.key });
      const { key, nonce } = await keySchedule(dh, enc, recipient.publicRaw, info);
      return { ct: await aead.encryptAead(key, nonce, aad, plaintext), enc };
    },
    async open(privateKey, kemOutput, ciphertext, info, aad) {
      try {
        if (kemOutput.length !== 32) throw new CryptoError("X25519 encapsulation must be 32 bytes");
        const recipient = material(privateKey as CryptoKey, true);
        const ephemeral = createPublicKey({
          key: { kty: "OKP", crv: "X25519", x: Buffer.from(kemOutput).toString("base64url") },
          format: "jwk",
        });
        const dh = diffieHellman({ privateKey: recipient.key, publicKey: ephemeral });
        const { key, nonce } = await keySchedule(dh, kemOutput, recipient.publicRaw, info);
        return await aead.decryptAead(key, nonce, aad, ciphertext);
      } catch (cause) {
        throw new CryptoError(`HPKE open failed: ${cause instanceof Error ? cause.message : String(cause)}`);
      }
    },
  };
}

// HPKE base mode (RFC 9180) for DHKEM(X25519, HKDF-SHA256) with HKDF-SHA256 and AES-128-GCM (suite 1), on
// node:crypto. ts-mls' default goes through @hpke/core on WebCrypto: every seal awaits a key generation, a
// key import and a key derivation on the thread pool, which makes a commit to N members cost N of those. Keys
// stay WebCrypto CryptoKeys so the rest of ts-mls' HPKE (key export, exporter secrets) keeps working on them.
// A commit seals to every node of the committer's copath resolution (up to N-1 leaves), with one GroupContext
// as `info`: imported public keys are cached by their bytes (an X25519 import costs 30 us, as much as the DH),
// and psk_id_hash (constant in base mode) and info_hash (same info for the whole commit) are not recomputed.
// DeriveKeyPair (a pair per UpdatePath node) is here too: @hpke/core's ran HKDF as WebCrypto HMAC jobs.
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
  return new Uint8Array(key.export({ format: "raw-public" }));
}

const PUBLIC_KEY_CACHE_LIMIT = 4096;

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

function importPrivateKey(raw: Uint8Array): CryptoKey {
  if (raw.length !== 32) throw new CryptoError("X25519 private key must be 32 bytes");
  const key = createPrivateKey({
    key: Buffer.concat([X25519_PKCS8_PREFIX, raw]),
    format: "der",
    type: "pkcs8",
  });
  const crypto = key.toCryptoKey("X25519", true, ["deriveBits"]);
  known.set(crypto, { key, publicRaw: rawPublic(createPublicKey(key)) });
  return crypto;
}

/**
 * Replaces seal, open, the key imports and key derivation of ts-mls' suite-1 HPKE; `aead` and `kdf` are
 * node:crypto's.
 */
export function nodeHpke(
  kdf: Kdf,
  aead: Pick<Hpke, "encryptAead" | "decryptAead">,
): Pick<Hpke, "seal" | "open" | "importPublicKey" | "importPrivateKey" | "deriveKeyPair"> {
  const labeledExtract = (suite: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array) =>
    kdf.extract(salt, concat(VERSION, suite, encoder.encode(label), ikm));
  const labeledExpand = (
    suite: Uint8Array,
    prk: Uint8Array,
    label: string,
    info: Uint8Array,
    length: number,
  ) => kdf.expand(prk, concat(i2osp2(length), VERSION, suite, encoder.encode(label), info), length);

  const pskIdHash = labeledExtract(HPKE_SUITE, EMPTY, "psk_id_hash", EMPTY);
  // The last info's hash: a commit adding N members seals N Welcome secrets under one info (the encrypted
  // GroupInfo, megabytes in a large group). The same info object (the ts-mls patch passes one for one context)
  // is taken as the same bytes; another object is compared in place, without copying it.
  let lastInfo:
    | { readonly source: Uint8Array; readonly info: Buffer; readonly hash: Promise<Uint8Array> }
    | undefined;
  const infoHash = (info: Uint8Array) => {
    if (
      lastInfo === undefined ||
      (lastInfo.source !== info &&
        !lastInfo.info.equals(Buffer.from(info.buffer, info.byteOffset, info.byteLength)))
    )
      lastInfo = {
        source: info,
        info: Buffer.from(info),
        hash: labeledExtract(HPKE_SUITE, EMPTY, "info_hash", info),
      };
    return lastInfo.hash;
  };
  const publicKeys = new Map<string, CryptoKey>();

  // DHKEM ExtractAndExpand, then the base-mode key schedule: the AEAD key and nonce of a single-shot context.
  async function keySchedule(dh: Uint8Array, enc: Uint8Array, recipient: Uint8Array, info: Uint8Array) {
    if (dh.every((b) => b === 0)) throw new CryptoError("X25519 shared secret is zero");
    const eaePrk = await labeledExtract(KEM_SUITE, EMPTY, "eae_prk", dh);
    const shared = await labeledExpand(KEM_SUITE, eaePrk, "shared_secret", concat(enc, recipient), 32);
    const context = concat(Uint8Array.of(0), await pskIdHash, await infoHash(info));
    const secret = await labeledExtract(HPKE_SUITE, shared, "secret", EMPTY);
    return {
      key: await labeledExpand(HPKE_SUITE, secret, "key", context, 16),
      nonce: await labeledExpand(HPKE_SUITE, secret, "base_nonce", context, 12),
    };
  }

  return {
    async importPublicKey(raw) {
      if (raw.length !== 32) throw new CryptoError("X25519 public key must be 32 bytes");
      const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("base64");
      let crypto = publicKeys.get(id);
      if (crypto === undefined) {
        const key = createPublicKey({
          key: Buffer.from(raw),
          format: "raw-public",
          asymmetricKeyType: "x25519",
        });
        crypto = key.toCryptoKey("X25519", true, []);
        known.set(crypto, { key, publicRaw: raw.slice() });
        if (publicKeys.size >= PUBLIC_KEY_CACHE_LIMIT)
          publicKeys.delete(publicKeys.keys().next().value as string);
        publicKeys.set(id, crypto);
      }
      return crypto as Awaited<ReturnType<Hpke["importPublicKey"]>>;
    },
    importPrivateKey: async (raw) => importPrivateKey(raw),
    // RFC 9180 §7.1.3 (X25519: sk is the expanded bytes); ts-mls derives one pair per node of an UpdatePath.
    async deriveKeyPair(ikm) {
      const dkpPrk = await labeledExtract(KEM_SUITE, EMPTY, "dkp_prk", ikm);
      const sk = await labeledExpand(KEM_SUITE, dkpPrk, "sk", EMPTY, 32);
      const privateKey = importPrivateKey(sk);
      sk.fill(0);
      dkpPrk.fill(0);
      const found = known.get(privateKey) as { readonly key: KeyObject; readonly publicRaw: Uint8Array };
      const publicObject = createPublicKey(found.key);
      const publicKey = publicObject.toCryptoKey("X25519", true, []);
      known.set(publicKey, { key: publicObject, publicRaw: found.publicRaw });
      return {
        privateKey: privateKey as Awaited<ReturnType<Hpke["importPrivateKey"]>>,
        publicKey: publicKey as Awaited<ReturnType<Hpke["importPublicKey"]>>,
      };
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
          key: Buffer.from(kemOutput),
          format: "raw-public",
          asymmetricKeyType: "x25519",
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

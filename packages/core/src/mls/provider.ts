// A CryptoProvider on node:crypto. ts-mls' default one goes through WebCrypto and re-imports every key on
// every call (an Ed25519 key per signature, an AES key per message, an HMAC key per MAC); here signature keys
// are cached KeyObjects and the symmetric work is synchronous node:crypto, so a message costs about what the
// bare primitives cost. AES keys are wrapped with createSecretKey first: on Node 24 passing raw bytes to
// createCipheriv costs 3-4 times more than building the KeyObject and passing that. HMAC (all of HKDF, so the
// key schedule and the secret tree, which derives 4 secrets per member every epoch) is RFC 2104 over the
// one-shot crypto.hash: 4 us a MAC against 6.4 for createHmac with a KeyObject and 15 with raw bytes.
// HPKE seal/open of suite 1 (commits, Welcomes) is node:crypto too (hpke.ts).
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  hash,
  type KeyObject,
  randomBytes,
  randomFillSync,
  sign,
  timingSafeEqual,
  verify,
} from "node:crypto";
import {
  type Ciphersuite,
  type CiphersuiteImpl,
  type CryptoProvider,
  defaultCryptoProvider,
  type Hash,
  type Kdf,
  type Signature,
} from "ts-mls";
import { nodeHpke } from "./hpke.js";

const toBytes = (b: Buffer): Uint8Array => new Uint8Array(b);

const secret = (key: Uint8Array): KeyObject => createSecretKey(key);

type HashName = "sha256" | "sha384" | "sha512";

// Scratch space for HMAC's two hash inputs: hash() is synchronous, so one buffer serves every call that fits
// (key schedule and secret tree labels are short); the key bytes in it are zeroed after each use.
const SCRATCH_BYTES = 512;
const innerScratch = Buffer.alloc(SCRATCH_BYTES);
const outerScratch = Buffer.alloc(128 + 64);

/**
 * HMAC (RFC 2104) of the concatenation of `parts`: H((K ^ opad) || H((K ^ ipad) || parts)), K zero-padded to
 * the block and hashed first when longer. The padded blocks are zeroed after use: they are the key.
 */
export function hmac(algorithm: HashName, key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const block = algorithm === "sha256" ? 64 : 128;
  const k = key.length > block ? hash(algorithm, key, "buffer") : key;
  let length = block;
  for (const part of parts) length += part.length;
  const inner = length <= SCRATCH_BYTES ? innerScratch.subarray(0, length) : Buffer.allocUnsafe(length);
  inner.fill(0x36, k.length, block);
  for (let i = 0; i < k.length; i++) inner[i] = (k[i] as number) ^ 0x36;
  let at = block;
  for (const part of parts) {
    inner.set(part, at);
    at += part.length;
  }
  const innerHash = hash(algorithm, inner, "buffer");
  inner.fill(0, 0, length);
  const outer = outerScratch.subarray(0, block + innerHash.length);
  outer.fill(0x5c, k.length, block);
  for (let i = 0; i < k.length; i++) outer[i] = (k[i] as number) ^ 0x5c;
  outer.set(innerHash, block);
  const tag = hash(algorithm, outer, "buffer");
  outer.fill(0);
  return tag;
}

/**
 * CSPRNG bytes handed out from a pool refilled 4 KiB at a time: ts-mls asks for 4 random bytes per message
 * (the reuse guard), and each small randomFillSync or getRandomValues call cost 5-10 us, more than an AES-GCM
 * seal. Bytes handed out are zeroed in the pool (some become secrets: path secrets, init secrets).
 */
export function pooledRandomBytes(): (n: number) => Uint8Array {
  const pool = Buffer.alloc(4096);
  let at = pool.length;
  return (n) => {
    if (n > 256) return new Uint8Array(randomBytes(n));
    if (at + n > pool.length) {
      randomFillSync(pool);
      at = 0;
    }
    const out = new Uint8Array(pool.subarray(at, at + n));
    pool.fill(0, at, at + n);
    at += n;
    return out;
  };
}

/** A small bounded cache: keys are looked up by their bytes, the oldest entry goes first. */
function keyCache(limit: number): (bytes: Uint8Array, make: () => KeyObject) => KeyObject {
  const cache = new Map<string, KeyObject>();
  return (bytes, make) => {
    const id = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
    let key = cache.get(id);
    if (key === undefined) {
      key = make();
      if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
      cache.set(id, key);
    }
    return key;
  };
}

// PKCS#8 prefix of a raw 32-byte Ed25519 seed (what WebCrypto exports and ts-mls stores).
const ED25519_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

function ed25519Signature(): Signature {
  const privateKeys = keyCache(64);
  const publicKeys = keyCache(4096);
  const privateKey = (signKey: Uint8Array) =>
    privateKeys(signKey, () => {
      const der =
        signKey.length === 32 ? Buffer.concat([ED25519_PKCS8_PREFIX, signKey]) : Buffer.from(signKey);
      return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    });
  const publicKey = (raw: Uint8Array) =>
    publicKeys(raw, () =>
      createPublicKey({
        key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(raw).toString("base64url") },
        format: "jwk",
      }),
    );
  return {
    async sign(signKey, message) {
      return toBytes(sign(null, message, privateKey(signKey)));
    },
    async verify(raw, message, signature) {
      if (raw.length !== 32 || signature.length !== 64) return false;
      return verify(null, message, publicKey(raw), signature);
    },
    async keygen() {
      const pair = generateKeyPairSync("ed25519");
      const jwk = pair.publicKey.export({ format: "jwk" });
      return {
        publicKey: toBytes(Buffer.from(jwk.x as string, "base64url")),
        signKey: toBytes(pair.privateKey.export({ format: "der", type: "pkcs8" })),
      };
    },
  };
}

function nodeHash(algorithm: HashName): Hash {
  const mac = (key: Uint8Array, data: Uint8Array) => hmac(algorithm, key, data);
  return {
    async digest(data) {
      return toBytes(hash(algorithm, data, "buffer"));
    },
    async mac(key, data) {
      return toBytes(mac(key, data));
    },
    async verifyMac(key, tag, data) {
      const expected = mac(key, data);
      return expected.length === tag.length && timingSafeEqual(expected, tag);
    },
  };
}

// HKDF (RFC 5869) on HMAC; MLS expands to at most a few hash lengths at a time.
const FIRST_BLOCK = Uint8Array.of(1);
function nodeHkdf(algorithm: HashName, size: number): Kdf {
  return {
    size,
    async extract(salt, ikm) {
      return toBytes(hmac(algorithm, salt, ikm));
    },
    async expand(prk, info, len) {
      if (len <= size) return toBytes(hmac(algorithm, prk, info, FIRST_BLOCK).subarray(0, len));
      const out = new Uint8Array(len);
      let previous: Uint8Array = new Uint8Array(0);
      for (let i = 1, filled = 0; filled < len; i++) {
        previous = hmac(algorithm, prk, previous, info, Uint8Array.of(i));
        out.set(previous.subarray(0, len - filled), filled);
        filled += previous.length;
      }
      return out;
    },
  };
}

function aesGcm(bits: 128 | 256) {
  const algorithm = bits === 128 ? "aes-128-gcm" : "aes-256-gcm";
  return {
    async encryptAead(
      key: Uint8Array,
      nonce: Uint8Array,
      aad: Uint8Array | undefined,
      plaintext: Uint8Array,
    ) {
      const cipher = createCipheriv(algorithm, secret(key), nonce);
      if (aad !== undefined && aad.length > 0) cipher.setAAD(aad);
      const body = cipher.update(plaintext);
      const rest = cipher.final(); // empty for GCM
      const sealed = new Uint8Array(body.length + rest.length + 16);
      sealed.set(body);
      sealed.set(rest, body.length);
      sealed.set(cipher.getAuthTag(), body.length + rest.length);
      return sealed;
    },
    async decryptAead(
      key: Uint8Array,
      nonce: Uint8Array,
      aad: Uint8Array | undefined,
      ciphertext: Uint8Array,
    ) {
      if (ciphertext.length < 16) throw new Error("ciphertext shorter than the tag");
      const decipher = createDecipheriv(algorithm, secret(key), nonce);
      if (aad !== undefined && aad.length > 0) decipher.setAAD(aad);
      decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
      const body = decipher.update(ciphertext.subarray(0, ciphertext.length - 16));
      const rest = decipher.final(); // empty for GCM; throws when the tag does not verify
      if (rest.length === 0) return toBytes(body);
      return toBytes(Buffer.concat([body, rest]));
    },
  };
}

const hashes = {
  "SHA-256": ["sha256", 32, "HKDF-SHA256"],
  "SHA-384": ["sha384", 48, "HKDF-SHA384"],
  "SHA-512": ["sha512", 64, "HKDF-SHA512"],
} as const;

/** ts-mls' default provider with node:crypto for hashing, HKDF, AES-GCM, Ed25519 and suite 1's HPKE. */
export const nodeCryptoProvider: CryptoProvider = {
  async getCiphersuiteImpl(cs: Ciphersuite): Promise<CiphersuiteImpl> {
    const base = await defaultCryptoProvider.getCiphersuiteImpl(cs);
    const [algorithm, size, hkdf] = hashes[cs.hash];
    const aead =
      cs.hpke.aead === "AES128GCM" ? aesGcm(128) : cs.hpke.aead === "AES256GCM" ? aesGcm(256) : undefined;
    const kdf = cs.hpke.kdf === hkdf ? nodeHkdf(algorithm, size) : base.kdf;
    const x25519Aes128 =
      cs.hpke.kem === "DHKEM-X25519-HKDF-SHA256" &&
      cs.hpke.kdf === "HKDF-SHA256" &&
      cs.hpke.aead === "AES128GCM";
    return {
      ...base,
      rng: { randomBytes: pooledRandomBytes() },
      hash: nodeHash(algorithm),
      kdf,
      signature: cs.signature === "Ed25519" ? ed25519Signature() : base.signature,
      hpke:
        aead === undefined
          ? base.hpke
          : { ...base.hpke, ...aead, ...(x25519Aes128 ? nodeHpke(kdf, aead) : {}) },
    };
  },
};

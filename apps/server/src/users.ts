import { createHash, randomBytes, webcrypto } from "node:crypto";
import { exportJwk, generateCryptoKeyPair, importJwk } from "@fedify/fedify";
import { ServerError } from "./errors.js";
import type { AccountStore } from "./store.js";

// URL-safe without escaping; not dots only (`/users/..` would not be a path of its own).
const USERNAME = /^(?=.*[a-z0-9_])[a-z0-9_.-]{1,255}$/;

interface StoredKeyPair {
  readonly privateKey: webcrypto.JsonWebKey;
  readonly publicKey: webcrypto.JsonWebKey;
}

/**
 * RSA-2048, as Mastodon's and most Fediverse servers' actor keys: every delivery is signed with it, and
 * Fedify's default (4,096 bits) costs about 3 ms of CPU per signature against 0.45 ms.
 */
export const RSA_MODULUS_BITS = 2048;

function generateRsaKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: RSA_MODULUS_BITS,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
}

function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/**
 * Local accounts, their signing key pairs (RSA for draft-cavage peers, Ed25519 for RFC 9421 / FEP-8b32) and
 * their bearer tokens. Tokens are stored only as SHA-256 hashes.
 */
export class Users {
  readonly #accounts: AccountStore;
  readonly #keys = new Map<string, webcrypto.CryptoKeyPair[]>();

  constructor(accounts: AccountStore) {
    this.#accounts = accounts;
  }

  exists(name: string): Promise<boolean> {
    return this.#accounts.exists(name);
  }

  list(): Promise<string[]> {
    return this.#accounts.list();
  }

  async add(name: string): Promise<void> {
    if (!USERNAME.test(name)) {
      throw new ServerError(
        "invalid_username",
        "a user name is 1-64 of a-z 0-9 _ . - starting with a letter, digit or _",
      );
    }
    const taken = () => new ServerError("user_exists", `the name ${name} is taken (or was used before)`, 409);
    if (await this.#accounts.taken(name)) throw taken();
    const pairs = [await generateRsaKeyPair(), await generateCryptoKeyPair("Ed25519")];
    const stored: StoredKeyPair[] = [];
    for (const pair of pairs) {
      stored.push({
        privateKey: await exportJwk(pair.privateKey),
        publicKey: await exportJwk(pair.publicKey),
      });
    }
    if (!(await this.#accounts.add(name, JSON.stringify(stored)))) throw taken();
    this.#keys.set(name, pairs);
  }

  async remove(name: string): Promise<void> {
    if (!(await this.#accounts.remove(name))) throw new ServerError("unknown_user", `no user ${name}`, 404);
    this.#keys.delete(name);
  }

  async keyPairs(name: string): Promise<webcrypto.CryptoKeyPair[]> {
    const cached = this.#keys.get(name);
    if (cached !== undefined) return cached;
    const keys = await this.#accounts.keys(name);
    if (keys === undefined) return [];
    const pairs: webcrypto.CryptoKeyPair[] = [];
    for (const { privateKey, publicKey } of JSON.parse(keys) as StoredKeyPair[]) {
      pairs.push({
        privateKey: await importJwk(privateKey, "private"),
        publicKey: await importJwk(publicKey, "public"),
      });
    }
    this.#keys.set(name, pairs);
    return pairs;
  }

  /** Issues a new bearer token for the user; only its hash is kept, so it is shown once. */
  async issueToken(name: string): Promise<string> {
    if (!(await this.exists(name))) throw new ServerError("unknown_user", `no user ${name}`, 404);
    // Hex, not base64url: a token starting with "-" cannot be given as `sottod init --token TOKEN` (it reads
    // as an option), which one in 64 base64url tokens did.
    const token = randomBytes(32).toString("hex");
    await this.#accounts.addToken(name, tokenHash(token));
    return token;
  }

  /** Revokes one token, or all of a user's tokens when `token` is omitted; answers how many were revoked. */
  revokeTokens(name: string, token?: string): Promise<number> {
    return this.#accounts.revokeTokens(name, token === undefined ? undefined : tokenHash(token));
  }

  /** The user a bearer token belongs to. */
  authenticate(token: string): Promise<string | undefined> {
    return this.#accounts.tokenOwner(tokenHash(token));
  }
}

import { createHash, randomBytes, type webcrypto } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import { exportJwk, generateCryptoKeyPair, importJwk } from "@fedify/fedify";
import { ServerError } from "./errors.js";

// URL-safe without escaping; not dots only (`/users/..` would not be a path of its own).
const USERNAME = /^(?=.*[a-z0-9_])[a-z0-9_.-]{1,255}$/;

interface StoredKeyPair {
  readonly privateKey: webcrypto.JsonWebKey;
  readonly publicKey: webcrypto.JsonWebKey;
}

function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/**
 * Local accounts, their signing key pairs (RSA for draft-cavage peers, Ed25519 for RFC 9421 / FEP-8b32) and
 * their bearer tokens. Tokens are stored only as SHA-256 hashes.
 */
export class Users {
  readonly #db: DatabaseSync;
  readonly #keys = new Map<string, webcrypto.CryptoKeyPair[]>();

  constructor(db: DatabaseSync) {
    this.#db = db;
    // A removed user's row stays (keys erased) so that the name, and the mail stored under it, is never reused.
    db.exec(`CREATE TABLE IF NOT EXISTS users (
      name TEXT PRIMARY KEY, created TEXT NOT NULL, keys TEXT NOT NULL, removed INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE IF NOT EXISTS tokens (
      hash TEXT PRIMARY KEY, name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE, created TEXT NOT NULL)`);
  }

  exists(name: string): boolean {
    return this.#db.prepare("SELECT 1 FROM users WHERE name = ? AND removed = 0").get(name) !== undefined;
  }

  list(): string[] {
    return (this.#db.prepare("SELECT name FROM users ORDER BY name").all() as { name: string }[]).map(
      (r) => r.name,
    );
  }

  async add(name: string): Promise<void> {
    if (!USERNAME.test(name)) {
      throw new ServerError(
        "invalid_username",
        "a user name is 1-64 of a-z 0-9 _ . - starting with a letter, digit or _",
      );
    }
    if (this.#db.prepare("SELECT 1 FROM users WHERE name = ?").get(name) !== undefined) {
      throw new ServerError("user_exists", `the name ${name} is taken (or was used before)`, 409);
    }
    const pairs = [await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"), await generateCryptoKeyPair("Ed25519")];
    const stored: StoredKeyPair[] = [];
    for (const pair of pairs) {
      stored.push({
        privateKey: await exportJwk(pair.privateKey),
        publicKey: await exportJwk(pair.publicKey),
      });
    }
    this.#db
      .prepare("INSERT INTO users (name, created, keys) VALUES (?, ?, ?)")
      .run(name, new Date().toISOString(), JSON.stringify(stored));
    this.#keys.set(name, pairs);
  }

  remove(name: string): void {
    this.#db.prepare("DELETE FROM tokens WHERE name = ?").run(name);
    const { changes } = this.#db
      .prepare("UPDATE users SET removed = 1, keys = '[]' WHERE name = ? AND removed = 0")
      .run(name);
    if (changes === 0) throw new ServerError("unknown_user", `no user ${name}`, 404);
    this.#keys.delete(name);
  }

  async keyPairs(name: string): Promise<webcrypto.CryptoKeyPair[]> {
    const cached = this.#keys.get(name);
    if (cached !== undefined) return cached;
    const row = this.#db.prepare("SELECT keys FROM users WHERE name = ?").get(name) as
      | { keys: string }
      | undefined;
    if (row === undefined) return [];
    const pairs: webcrypto.CryptoKeyPair[] = [];
    for (const { privateKey, publicKey } of JSON.parse(row.keys) as StoredKeyPair[]) {
      pairs.push({
        privateKey: await importJwk(privateKey, "private"),
        publicKey: await importJwk(publicKey, "public"),
      });
    }
    this.#keys.set(name, pairs);
    return pairs;
  }

  /** Issues a new bearer token for the user; only its hash is kept, so it is shown once. */
  issueToken(name: string): string {
    if (!this.exists(name)) throw new ServerError("unknown_user", `no user ${name}`, 404);
    // Hex, not base64url: a token starting with "-" cannot be given as `sottod init --token TOKEN` (it reads
    // as an option), which one in 64 base64url tokens did.
    const token = randomBytes(32).toString("hex");
    this.#db
      .prepare("INSERT INTO tokens (hash, name, created) VALUES (?, ?, ?)")
      .run(tokenHash(token), name, new Date().toISOString());
    return token;
  }

  /** Revokes one token, or all of a user's tokens when `token` is omitted; answers how many were revoked. */
  revokeTokens(name: string, token?: string): number {
    const result =
      token === undefined
        ? this.#db.prepare("DELETE FROM tokens WHERE name = ?").run(name)
        : this.#db.prepare("DELETE FROM tokens WHERE name = ? AND hash = ?").run(name, tokenHash(token));
    return Number(result.changes);
  }

  /** The user a bearer token belongs to. */
  authenticate(token: string): string | undefined {
    const row = this.#db.prepare("SELECT name FROM tokens WHERE hash = ?").get(tokenHash(token)) as
      | { name: string }
      | undefined;
    return row?.name;
  }
}

import { argon2, createSecretKey, hkdfSync, type KeyObject, randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { open, seal } from "./cipher.js";
import { StorageError } from "./errors.js";

/**
 * Where the key that unlocks a store comes from: a passphrase (stretched with Argon2id), a key file
 * (at least 32 secret bytes, mode 0600 or stricter), or a systemd credential
 * (`$CREDENTIALS_DIRECTORY/<name>`, e.g. from `LoadCredentialEncrypted=`). A key file and a
 * credential holding the same bytes are interchangeable.
 */
export type StoreKey =
  | { readonly passphrase: string }
  | { readonly keyFile: string }
  | { readonly credential: string };

/** Argon2id cost: `memory` in KiB, `passes` (t), `parallelism` (p). */
export interface Argon2idParams {
  readonly memory: number;
  readonly passes: number;
  readonly parallelism: number;
}

/** RFC 9106 §4, second recommended option: 64 MiB, t = 3, p = 4 (about 140 ms here). */
export const DEFAULT_ARGON2ID: Argon2idParams = { memory: 64 * 1024, passes: 3, parallelism: 4 };

/** How the key-encryption key was derived; stored beside the wrapped data key. */
export type Kdf =
  | ({ readonly alg: "argon2id"; readonly salt: string } & Argon2idParams)
  | { readonly alg: "hkdf-sha256"; readonly salt: string };

/** A data key wrapped under a key-encryption key, with what it takes to derive that key again. */
export interface WrappedKey {
  readonly kdf: Kdf;
  readonly wrapped: Uint8Array;
}

const MIN_SECRET = 32;

/**
 * Reads stored KDF parameters, refusing anything out of bounds: parameters are not authenticated
 * until the unwrap, and an absurd Argon2 cost would be a denial of service before that.
 */
export function parseKdf(value: unknown): Kdf {
  const kdf = (typeof value === "string" ? safeJson(value) : value) as Partial<
    Record<string, unknown>
  > | null;
  const within = (x: unknown, min: number, max: number) =>
    Number.isInteger(x) && (x as number) >= min && (x as number) <= max;
  if (kdf && typeof kdf.salt === "string") {
    if (kdf.alg === "hkdf-sha256") return { alg: "hkdf-sha256", salt: kdf.salt };
    if (
      kdf.alg === "argon2id" &&
      within(kdf.memory, 8, 4 * 1024 * 1024) &&
      within(kdf.passes, 1, 64) &&
      within(kdf.parallelism, 1, 64)
    ) {
      return {
        alg: "argon2id",
        salt: kdf.salt,
        memory: kdf.memory as number,
        passes: kdf.passes as number,
        parallelism: kdf.parallelism as number,
      };
    }
  }
  throw new StorageError("corrupt", "the key-derivation parameters are damaged");
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Derives a fresh key-encryption key (new salt) for `key` and wraps `dataKey` under it. */
export async function wrapKey(
  dataKey: Uint8Array,
  key: StoreKey,
  context: string,
  argon2id: Argon2idParams = DEFAULT_ARGON2ID,
): Promise<WrappedKey> {
  const salt = randomBytes(16).toString("base64");
  const kdf: Kdf =
    "passphrase" in key ? { alg: "argon2id", salt, ...argon2id } : { alg: "hkdf-sha256", salt };
  const kek = await deriveKek(key, kdf);
  return { kdf, wrapped: seal(kek, context, dataKey) };
}

/** Unwraps a data key; a key that does not open it is `wrong_key`, never a guess. */
export async function unwrapKey(record: WrappedKey, key: StoreKey, context: string): Promise<Buffer> {
  const usesPassphrase = "passphrase" in key;
  if (usesPassphrase !== (record.kdf.alg === "argon2id")) {
    const needed = record.kdf.alg === "argon2id" ? "a passphrase" : "a key file or credential";
    throw new StorageError("wrong_key", `this is protected by ${needed}`);
  }
  const kek = await deriveKek(key, record.kdf);
  const dataKey = open(kek, context, record.wrapped);
  if (dataKey === undefined) throw new StorageError("wrong_key", "the key does not unlock this");
  return Buffer.from(dataKey);
}

async function deriveKek(key: StoreKey, kdf: Kdf): Promise<KeyObject> {
  const salt = Buffer.from(kdf.salt, "base64");
  if (kdf.alg === "argon2id") {
    if (!("passphrase" in key) || key.passphrase.length === 0) {
      throw new StorageError("key_missing", "an empty passphrase is not a key");
    }
    const message = Buffer.from(key.passphrase.normalize("NFC"), "utf8");
    const derived = await new Promise<Buffer>((resolve, reject) =>
      argon2(
        "argon2id",
        {
          message,
          nonce: salt,
          tagLength: 32,
          memory: kdf.memory,
          passes: kdf.passes,
          parallelism: kdf.parallelism,
        },
        (error, out) => (error ? reject(error) : resolve(out)),
      ),
    );
    return createSecretKey(derived);
  }
  const secret = readSecret(key);
  return createSecretKey(Buffer.from(hkdfSync("sha256", secret, salt, "sotto-storage key-file", 32)));
}

/** Reads a key file (refusing loose permissions) or a systemd credential. */
function readSecret(key: StoreKey): Buffer {
  let path: string;
  if ("keyFile" in key) {
    path = key.keyFile;
    const stat = statOrMissing(path);
    if ((stat.mode & 0o077) !== 0) {
      throw new StorageError(
        "key_file_permissions",
        `key file ${path} is accessible by group or others (mode ${(stat.mode & 0o777).toString(8)}); chmod 600 it`,
      );
    }
  } else if ("credential" in key) {
    const dir = process.env.CREDENTIALS_DIRECTORY;
    if (!dir)
      throw new StorageError("key_missing", "$CREDENTIALS_DIRECTORY is not set (not run by systemd?)");
    if (key.credential.length === 0 || /[/\\]/.test(key.credential) || key.credential.startsWith(".")) {
      throw new StorageError("key_missing", "a credential name is a plain file name");
    }
    path = join(dir, key.credential);
    statOrMissing(path);
  } else {
    throw new StorageError("key_missing", "a passphrase is not a key file");
  }
  const secret = readFileSync(path);
  if (secret.length < MIN_SECRET) {
    throw new StorageError("key_missing", `key file ${path} holds fewer than ${MIN_SECRET} bytes`);
  }
  return secret;
}

function statOrMissing(path: string) {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new StorageError("key_missing", `${path} is not a file`);
    return stat;
  } catch (error) {
    if (error instanceof StorageError) throw error;
    throw new StorageError("key_missing", `cannot read key file ${path}`, { cause: error });
  }
}

/** Independent subkeys of the data key, one per use. */
export function subkey(dataKey: Uint8Array, use: string): KeyObject {
  return createSecretKey(
    Buffer.from(hkdfSync("sha256", dataKey, new Uint8Array(0), `sotto-storage ${use}`, 32)),
  );
}

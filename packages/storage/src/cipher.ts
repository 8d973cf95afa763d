import { createCipheriv, createDecipheriv, type KeyObject, randomFillSync } from "node:crypto";
import { StorageError } from "./errors.js";

// Sealed value layout: version (1) | nonce (12) | ciphertext | GCM tag (16).
const VERSION = 1;
const NONCE = 12;
const TAG = 16;
const encoder = new TextEncoder();

// Nonces come from the CSPRNG in batches (one call per 4 KiB is much cheaper than one per value);
// each 12-byte slice is handed out once.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function nonce(): Buffer {
  if (poolOffset + NONCE > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + NONCE);
  poolOffset += NONCE;
  return out;
}

/** AES-256-GCM under one key. `context` is the associated data: what the value is bound to. */
export function seal(key: KeyObject, context: string, plaintext: Uint8Array): Uint8Array {
  const iv = nonce();
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(encoder.encode(context));
  const body = cipher.update(plaintext);
  const last = cipher.final();
  const out = new Uint8Array(1 + NONCE + body.length + last.length + TAG);
  out[0] = VERSION;
  out.set(iv, 1);
  out.set(body, 1 + NONCE);
  out.set(last, 1 + NONCE + body.length);
  out.set(cipher.getAuthTag(), out.length - TAG);
  return out;
}

/** Opens what `seal` made with the same key and context; anything else is `undefined`. */
export function open(key: KeyObject, context: string, sealed: Uint8Array): Buffer | undefined {
  if (sealed.length < 1 + NONCE + TAG || sealed[0] !== VERSION) return undefined;
  const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(1, 1 + NONCE));
  decipher.setAAD(encoder.encode(context));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  try {
    const body = decipher.update(sealed.subarray(1 + NONCE, sealed.length - TAG));
    const last = decipher.final();
    return last.length === 0 ? body : Buffer.concat([body, last]);
  } catch {
    return undefined;
  }
}

/**
 * Encrypts one column value of one row: the associated data names the table, the column and the
 * row's key, so a value copied into another row or column no longer opens.
 */
export class FieldCipher {
  readonly #key: KeyObject;

  constructor(key: KeyObject) {
    this.#key = key;
  }

  seal(table: string, column: string, row: string, plaintext: Uint8Array): Uint8Array {
    return seal(this.#key, `sotto-storage/1\0${table}\0${column}\0${row}`, plaintext);
  }

  open(table: string, column: string, row: string, sealed: Uint8Array): Uint8Array {
    // A copy as a plain Uint8Array: callers get neither a Buffer nor a view of a shared pool.
    return new Uint8Array(this.#open(table, column, row, sealed));
  }

  #open(table: string, column: string, row: string, sealed: Uint8Array): Buffer {
    const plain = open(this.#key, `sotto-storage/1\0${table}\0${column}\0${row}`, sealed);
    if (plain === undefined) {
      throw new StorageError("tampered", `${table}.${column} of a row failed authentication`);
    }
    return plain;
  }

  sealJson(table: string, column: string, row: string, value: unknown): Uint8Array {
    return this.seal(table, column, row, encoder.encode(JSON.stringify(value)));
  }

  openJson<T>(table: string, column: string, row: string, sealed: Uint8Array): T {
    return JSON.parse(this.#open(table, column, row, sealed).toString("utf8")) as T;
  }
}

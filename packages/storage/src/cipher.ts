import { createCipheriv, createDecipheriv, type KeyObject, randomFillSync } from "node:crypto";
import { StorageError } from "./errors.js";
import { type Row, SEALED_TABLES } from "./sealed-columns.js";

// Sealed value layout: version (1) | nonce (12) | ciphertext | GCM tag (16).
const VERSION = 1;
const NONCE = 12;
const TAG = 16;
const encoder = new TextEncoder();

/** How many bytes sealing adds to a value. */
export const SEALED_OVERHEAD = 1 + NONCE + TAG;

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
 * Encrypts one column value of one row: the associated data names the table, the column, the row's key and the
 * values of the row's bound clear columns (see `SEALED_COLUMNS`), so a value copied into another row or column,
 * or left in a row whose clear columns were changed, no longer opens.
 */
export class FieldCipher {
  readonly #key: KeyObject;

  constructor(key: KeyObject) {
    this.#key = key;
  }

  seal(table: string, column: string, row: Row, plaintext: Uint8Array): Uint8Array {
    return seal(this.#key, context(table, column, row), plaintext);
  }

  open(table: string, column: string, row: Row, sealed: Uint8Array): Uint8Array {
    // A copy as a plain Uint8Array: callers get neither a Buffer nor a view of a shared pool.
    return new Uint8Array(this.#open(table, column, context(table, column, row), sealed));
  }

  sealJson(table: string, column: string, row: Row, value: unknown): Uint8Array {
    return this.seal(table, column, row, encoder.encode(JSON.stringify(value)));
  }

  openJson<T>(table: string, column: string, row: Row, sealed: Uint8Array): T {
    return JSON.parse(this.#open(table, column, context(table, column, row), sealed).toString("utf8")) as T;
  }

  /** Opens a value sealed by schema 1, bound to (table, column, row key) only: for the migration alone. */
  openUnbound(table: string, column: string, key: string, sealed: Uint8Array): Buffer {
    return this.#open(table, column, `sotto-storage/1\0${table}\0${column}\0${key}`, sealed);
  }

  #open(table: string, column: string, context: string, sealed: Uint8Array): Buffer {
    const plain = open(this.#key, context, sealed);
    if (plain === undefined) {
      throw new StorageError("tampered", `${table}.${column} of a row failed authentication`);
    }
    return plain;
  }
}

/** `sotto-storage/2 \0 table \0 column \0 row key \0 [bound values]` (bytes as `{ bytes: hex }`). */
function context(table: string, column: string, row: Row): string {
  const spec = SEALED_TABLES.get(table);
  if (spec === undefined) throw new StorageError("invalid_unit", `${table} has no sealed columns`);
  const bound = spec.bound.map((name) => {
    const value = row[name];
    return value instanceof Uint8Array ? { bytes: Buffer.from(value).toString("hex") } : (value ?? null);
  });
  return `sotto-storage/2\0${table}\0${column}\0${String(row[spec.key])}\0${JSON.stringify(bound)}`;
}

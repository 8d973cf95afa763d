import { createSecretKey, randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { open, seal } from "./cipher.js";
import { fromSqlite } from "./database.js";
import { StorageError } from "./errors.js";
import { type Argon2idParams, type Kdf, parseKdf, unwrapKey, wrapKey } from "./key.js";

// An export file: MAGIC | u32 header length | header JSON | chunks, each u32 length | sealed chunk.
// The header holds a random export key wrapped under Argon2id of the export passphrase; the chunks
// are sealed under that key, numbered and the last one marked, so reordering, splicing or cutting
// the file is detected. Chunk 0 carries the store's data key, the rest a snapshot of the database.
const MAGIC = Buffer.from("SOTTO-STORE-EXPORT/1\n");
const CHUNK = 1 << 20;
const EXPORT_KEY_CONTEXT = "sotto-export/1 key";

interface Header {
  readonly kdf: Kdf;
  readonly wrapped: string;
}

const chunkContext = (index: number, final: boolean) =>
  `sotto-export/1 chunk ${index} ${final ? "final" : "more"}`;

/** Snapshots the database (VACUUM INTO) and writes it, encrypted, to `file`. */
export async function writeExport(
  db: DatabaseSync,
  dataKey: Uint8Array,
  file: string,
  passphrase: string,
  argon2id?: Argon2idParams,
): Promise<void> {
  const exportKey = randomBytes(32);
  const wrapped = await wrapKey(exportKey, { passphrase }, EXPORT_KEY_CONTEXT, argon2id);
  const key = createSecretKey(exportKey);
  exportKey.fill(0);
  const out = openOrFail(file, "wx");
  // The snapshot (sealed values, clear ids) lives in a private directory beside the export.
  let scratch: string | undefined;
  let written = false;
  try {
    scratch = mkdtempSync(join(dirname(file), ".sotto-export-"));
    const snapshot = join(scratch, "snapshot.db");
    db.prepare("VACUUM INTO ?").run(snapshot);
    const header = Buffer.from(
      JSON.stringify({ kdf: wrapped.kdf, wrapped: Buffer.from(wrapped.wrapped).toString("base64") }),
    );
    writeSync(out, MAGIC);
    writeFramed(out, header);
    const size = statSync(snapshot).size;
    const count = Math.ceil(size / CHUNK);
    writeFramed(out, seal(key, chunkContext(0, count === 0), dataKey));
    const input = openSync(snapshot, "r");
    try {
      const buffer = Buffer.alloc(CHUNK);
      for (let i = 0; i < count; i++) {
        const n = readSync(input, buffer, 0, CHUNK, i * CHUNK);
        writeFramed(out, seal(key, chunkContext(i + 1, i === count - 1), buffer.subarray(0, n)));
      }
    } finally {
      closeSync(input);
    }
    written = true;
  } catch (error) {
    throw fromSqlite(error, "the export");
  } finally {
    closeSync(out);
    if (!written) unlinkSync(file);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Authenticates and decrypts an export: writes the database snapshot to `target` (created, mode
 * 0600) and returns the store's data key. Wrong passphrase: `wrong_key`; changed bytes:
 * `tampered`; cut or malformed file: `corrupt`. On failure `target` is removed.
 */
export async function readExport(from: string, passphrase: string, target: string): Promise<Buffer> {
  const input = openOrFail(from, "r");
  let dataKey: Buffer | undefined;
  try {
    const reader = new FramedReader(input);
    if (!reader.raw(MAGIC.length).equals(MAGIC))
      throw new StorageError("corrupt", "not a Sotto store export");
    const header = parseHeader(reader.frame());
    const exportKey = await unwrapKey(
      { kdf: header.kdf, wrapped: Buffer.from(header.wrapped, "base64") },
      { passphrase },
      EXPORT_KEY_CONTEXT,
    );
    const key = createSecretKey(exportKey);
    exportKey.fill(0);
    const out = openOrFail(target, "wx");
    try {
      for (let index = 0, final = false; !final; index++) {
        const sealed = reader.frame();
        // The final flag is authenticated: a chunk opens under exactly one of the two contexts.
        let plain = open(key, chunkContext(index, false), sealed);
        if (plain === undefined) {
          plain = open(key, chunkContext(index, true), sealed);
          final = true;
        }
        if (plain === undefined)
          throw new StorageError("tampered", `export chunk ${index} failed authentication`);
        if (index === 0) dataKey = Buffer.from(plain);
        else writeSync(out, plain);
      }
      if (!reader.atEnd()) throw new StorageError("corrupt", "the export has data after its last chunk");
    } finally {
      closeSync(out);
    }
    if (dataKey?.length !== 32) throw new StorageError("corrupt", "the export holds no data key");
    return dataKey;
  } catch (error) {
    if (existsSync(target)) unlinkSync(target);
    throw fromSqlite(error, "the export");
  } finally {
    closeSync(input);
  }
}

function parseHeader(bytes: Buffer): Header {
  let header: { kdf?: unknown; wrapped?: unknown } | null = null;
  try {
    header = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new StorageError("corrupt", "the export header is damaged", { cause: error });
  }
  const kdf = parseKdf(header?.kdf);
  if (kdf.alg !== "argon2id" || typeof header?.wrapped !== "string") {
    throw new StorageError("corrupt", "the export header is damaged");
  }
  return { kdf, wrapped: header.wrapped };
}

export function openOrFail(file: string, flags: "r" | "wx"): number {
  try {
    return openSync(file, flags, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new StorageError("exists", `${file} already exists`, { cause: error });
    if (code === "ENOENT") throw new StorageError("not_found", `no file at ${file}`, { cause: error });
    throw new StorageError("io", `cannot open ${file}`, { cause: error });
  }
}

function writeFramed(fd: number, bytes: Uint8Array): void {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  writeSync(fd, length);
  writeSync(fd, bytes);
}

/** Sequential reads of an export; running out of bytes is `corrupt` (a cut file). */
class FramedReader {
  readonly #fd: number;
  #position = 0;

  constructor(fd: number) {
    this.#fd = fd;
  }

  raw(n: number): Buffer {
    const buffer = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const read = readSync(this.#fd, buffer, got, n - got, this.#position + got);
      if (read === 0) throw new StorageError("corrupt", "the export is truncated");
      got += read;
    }
    this.#position += n;
    return buffer;
  }

  frame(): Buffer {
    const length = this.raw(4).readUInt32BE(0);
    if (length > CHUNK + 64) throw new StorageError("corrupt", "the export has an oversized chunk");
    return this.raw(length);
  }

  atEnd(): boolean {
    return readSync(this.#fd, Buffer.alloc(1), 0, 1, this.#position) === 0;
  }
}

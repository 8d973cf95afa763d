import { randomBytes } from "node:crypto";
import { existsSync, renameSync, unlinkSync } from "node:fs";
import { fromSqlite, openDatabase } from "./database.js";
import { StorageError } from "./errors.js";
import { readExport } from "./export-file.js";
import { wrapKey } from "./key.js";
import { KEYRING_CONTEXT, type OpenStoreOptions, Store } from "./store.js";

export interface ImportStoreOptions extends Omit<OpenStoreOptions, "create"> {
  /** The export file (from `Store.exportTo`). */
  readonly from: string;
  /** The passphrase the export was written with. */
  readonly passphrase: string;
}

/**
 * Turns an export into a new store at `path` (which must not exist), locked with `key` (which
 * need not be the key of the exported store), and opens it. Every sealed value is authenticated
 * before the store is handed out.
 */
export async function importStore(options: ImportStoreOptions): Promise<Store> {
  const { path } = options;
  if (existsSync(path) || existsSync(`${path}-wal`))
    throw new StorageError("exists", `${path} already exists`);
  const partial = `${path}.importing-${randomBytes(6).toString("hex")}`;
  const dataKey = await readExport(options.from, options.passphrase, partial);
  if (existsSync(path)) {
    unlinkSync(partial);
    throw new StorageError("exists", `${path} already exists`);
  }
  renameSync(partial, path);
  const db = openDatabase(path, false, options.durability ?? "full");
  let store: Store | undefined;
  try {
    const wrapped = await wrapKey(dataKey, options.key, KEYRING_CONTEXT, options.argon2id);
    db.prepare("UPDATE keyring SET kdf = ?, wrapped = ? WHERE id = 1").run(
      JSON.stringify(wrapped.kdf),
      wrapped.wrapped,
    );
    store = new Store(db, dataKey, options);
    store.check();
    return store;
  } catch (error) {
    if (store) store.close();
    else db.close();
    throw fromSqlite(error, path);
  }
}

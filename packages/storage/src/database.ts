import { closeSync, existsSync, openSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { StorageError } from "./errors.js";
import { APPLICATION_ID, migrate } from "./schema.js";

/**
 * How much a commit survives. `full` (the default): a committed unit survives power loss, because
 * sending after a rolled-back MLS state would reuse ratchet keys. `normal`: a committed unit
 * survives a crash of the process, the last ones may roll back (never half) on power loss.
 */
export type Durability = "full" | "normal";

/**
 * Opens (or creates) the SQLite file and takes the single-writer lock: SQLite's EXCLUSIVE locking
 * mode holds the file lock from the first write until close, so a second connection (any process)
 * gets `locked`; the kernel drops the lock when the holder dies, even by SIGKILL.
 */
export function openDatabase(path: string, create: boolean, durability: Durability): DatabaseSync {
  if (!existsSync(path)) {
    if (!create) throw new StorageError("not_found", `no store at ${path}`);
    // Created empty and private first: SQLite gives its -wal file the database file's mode.
    createPrivateFile(path);
  }
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { timeout: 0 });
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    const { journal_mode: mode } = db.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode: string };
    if (mode !== "wal")
      throw new StorageError("io", `cannot use a write-ahead log for ${path} (got ${mode})`);
    db.exec("BEGIN IMMEDIATE; COMMIT");
    db.exec(`PRAGMA synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
    // Overwrite deleted content (consumed KeyPackages, retracted messages) instead of leaving it free.
    db.exec("PRAGMA secure_delete = ON; PRAGMA trusted_schema = OFF; PRAGMA cell_size_check = ON");
    // Each unit of a batch is a savepoint, whose sub-journal (the pages it changes, as they were) is a temp
    // file: kept in memory, SQLite grows it in 1 KiB chunks instead of spilling past 64 KiB; with the daemon's
    // malloc mmap threshold (32 KiB) the default cost an mmap and munmap per unit, half of a message's store time.
    db.exec("PRAGMA temp_store = MEMORY");
    checkIdentity(db);
    const check = db.prepare("PRAGMA quick_check(1)").get() as { quick_check: string };
    if (check.quick_check !== "ok") throw new StorageError("corrupt", `the store at ${path} is damaged`);
    migrate(db);
    return db;
  } catch (error) {
    db?.close();
    throw fromSqlite(error, path);
  }
}

function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, "wx", 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return;
    throw new StorageError("io", `cannot create ${path}`, { cause: error });
  }
}

/** A new file becomes a Sotto store; any other SQLite file is refused. */
function checkIdentity(db: DatabaseSync): void {
  const { application_id: id } = db.prepare("PRAGMA application_id").get() as { application_id: number };
  if (id === APPLICATION_ID) return;
  const { n } = db.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as { n: number };
  if (id !== 0 || n !== 0) throw new StorageError("corrupt", "this SQLite file is not a Sotto store");
  db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
}

interface SqliteError {
  code?: string;
  errcode?: number;
}

/** Maps what node:sqlite throws onto a typed error (already typed errors pass through). */
export function fromSqlite(error: unknown, what = "the store"): StorageError {
  if (error instanceof StorageError) return error;
  const { code, errcode } = (error ?? {}) as SqliteError;
  if (code === "ERR_SQLITE_ERROR" && typeof errcode === "number") {
    switch (errcode & 0xff) {
      case 5: // SQLITE_BUSY
      case 6: // SQLITE_LOCKED
        return new StorageError("locked", `${what} is open in another process or connection`, {
          cause: error,
        });
      case 11: // SQLITE_CORRUPT
      case 26: // SQLITE_NOTADB
        return new StorageError("corrupt", `${what} is damaged or not a database`, { cause: error });
      case 19: // SQLITE_CONSTRAINT
      case 20: // SQLITE_MISMATCH
        return new StorageError("invalid_unit", "a value breaks the schema", { cause: error });
    }
    return new StorageError("io", `${what}: SQLite error ${errcode}`, { cause: error });
  }
  if (code === "ERR_INVALID_ARG_TYPE" || code === "ERR_INVALID_ARG_VALUE" || error instanceof TypeError) {
    return new StorageError("invalid_unit", "a value of the wrong type", { cause: error });
  }
  return new StorageError("io", `${what}: ${String((error as Error)?.message ?? error)}`, { cause: error });
}

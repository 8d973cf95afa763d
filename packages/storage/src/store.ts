import { createHmac, type KeyObject, randomBytes } from "node:crypto";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { FieldCipher } from "./cipher.js";
import { type Durability, fromSqlite, openDatabase } from "./database.js";
import { StorageError } from "./errors.js";
import { EventLog } from "./event-log.js";
import { writeExport } from "./export-file.js";
import type { JsonValue } from "./json.js";
import { type Argon2idParams, parseKdf, type StoreKey, subkey, unwrapKey, wrapKey } from "./key.js";
import type {
  ApplyResult,
  ContactDevice,
  ContactRecord,
  DeviceKey,
  EventPage,
  GroupRecord,
  GroupSummary,
  HeldLimits,
  KeyPackageSecret,
  MessageChangeKind,
  MessageCursor,
  MessageDirection,
  MessageState,
  OutboxItem,
  OutboxState,
  StoredEvent,
  StoredHeld,
  StoredMessage,
  StoredMessageChange,
  Unit,
  Verification,
} from "./records.js";
import { resealBound } from "./reseal.js";
import { SEALED_COLUMNS } from "./sealed-columns.js";
import { type MessageContent, UnitWriter } from "./unit-writer.js";

export interface OpenStoreOptions {
  /** The database file (one per account). `-wal` and `-journal` files live beside it. */
  readonly path: string;
  readonly key: StoreKey;
  /** Create the store if the file does not exist (default true). */
  readonly create?: boolean | undefined;
  /** Argon2id cost for a new store's passphrase (default `DEFAULT_ARGON2ID`). */
  readonly argon2id?: Argon2idParams | undefined;
  readonly durability?: Durability | undefined;
  /** How many of the newest events the log keeps (default 10,000). */
  readonly keepEvents?: number | undefined;
  /** The clock for times the caller does not give (default `Date.now`). */
  readonly clock?: (() => number) | undefined;
  /** How much the store holds for messages waiting for their Welcome or commit (default `DEFAULT_HELD_LIMITS`). */
  readonly heldLimits?: HeldLimits | undefined;
  /** Gets what a commit listener threw (default: rethrown asynchronously, like an uncaught error). */
  readonly onListenerError?: ((error: unknown) => void) | undefined;
}

export interface ApplyOptions {
  /**
   * `false`: commit without waiting for the disk (a store opened with `durability: "full"` runs this
   * transaction at `synchronous = NORMAL`). The unit is as atomic as any, and survives the process being
   * killed; only a power loss or an OS crash may undo it, together with the relaxed units after it, until the
   * next durable unit or `flush()` (each makes everything before it durable: the WAL is synced as a whole).
   * For work that can be done again from its source, such as received activities with the cursor that read
   * them. Default `true`.
   */
  readonly durable?: boolean | undefined;
}

/** What commit listeners learn: the events of the unit just committed and the last seq. */
export interface CommitInfo {
  readonly events: readonly StoredEvent[];
  readonly last: number;
}

export type CommitListener = (info: CommitInfo) => void;

/** An open `Store.batch`: what its units committed, told to listeners once the batch commits. */
interface Batch {
  readonly committed: CommitInfo[];
}

/**
 * Held-message limits: a stranger (one sender) can make the store hold at most 64 items or 4 MiB, and all
 * senders together 2,048 items or 32 MiB, of which one conversation at most 256 items; kept at most 7 days.
 */
export const DEFAULT_HELD_LIMITS: HeldLimits = {
  perConversation: 256,
  perSender: 64,
  perSenderBytes: 4 << 20,
  total: 2048,
  totalBytes: 32 << 20,
  maxAgeMs: 7 * 24 * 3600_000,
};

/** Associated data of the wrapped data key in the keyring row. */
export const KEYRING_CONTEXT = "sotto-storage/1 keyring";

/**
 * Opens (creating if needed) the encrypted store at `path`, unlocking it with `key`. Fails with a
 * `StorageError`: `locked` (open elsewhere), `wrong_key`, `corrupt`, `key_file_permissions`, ...
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const db = openDatabase(options.path, options.create ?? true, options.durability ?? "full");
  try {
    const row = db.prepare("SELECT kdf, wrapped FROM keyring WHERE id = 1").get() as
      | { kdf: string; wrapped: Uint8Array }
      | undefined;
    let dataKey: Buffer;
    if (row === undefined) {
      // Only a new store may get a new data key: sealed rows without a keyring mean it was removed.
      for (const { table } of SEALED_COLUMNS) {
        if (db.prepare(`SELECT 1 FROM ${table} LIMIT 1`).get()) {
          throw new StorageError("corrupt", "the keyring record is missing");
        }
      }
      dataKey = randomBytes(32);
      const wrapped = await wrapKey(dataKey, options.key, KEYRING_CONTEXT, options.argon2id);
      db.prepare("INSERT INTO keyring (id, kdf, wrapped) VALUES (1, ?, ?)").run(
        JSON.stringify(wrapped.kdf),
        wrapped.wrapped,
      );
    } else {
      dataKey = await unwrapKey(
        { kdf: parseKdf(row.kdf), wrapped: row.wrapped },
        options.key,
        KEYRING_CONTEXT,
      );
    }
    return new Store(db, dataKey, options);
  } catch (error) {
    db.close();
    throw fromSqlite(error, options.path);
  }
}

/**
 * An open store. One writer: all writes go through `apply`, one transaction per unit of work.
 * Every read authenticates what it decrypts and throws `tampered` rather than serve a changed value.
 */
export class Store {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #dataKey: Buffer;
  readonly #cipher: FieldCipher;
  readonly #ids: KeyObject;
  readonly #writer: UnitWriter;
  readonly #events: EventLog;
  readonly #clock: () => number;
  readonly #onListenerError: (error: unknown) => void;
  readonly #listeners = new Set<CommitListener>();
  readonly #q: Record<string, StatementSync>;
  /** The store waits for the disk on commit (`durability: "full"`), unless a unit is relaxed. */
  readonly #full: boolean;
  /** The connection's `synchronous` setting is NORMAL for a relaxed unit just now. */
  #relaxed = false;
  /** Relaxed units were committed since the WAL was last synced. */
  #unflushed = false;
  #batch: Batch | undefined;
  #closed = false;

  /** Use `openStore`. */
  constructor(db: DatabaseSync, dataKey: Buffer, options: OpenStoreOptions) {
    this.path = options.path;
    this.#db = db;
    this.#dataKey = dataKey;
    this.#cipher = new FieldCipher(subkey(dataKey, "fields"));
    this.#ids = subkey(dataKey, "activity ids");
    resealBound(db, this.#cipher);
    this.#writer = new UnitWriter(db, this.#cipher, options.heldLimits ?? DEFAULT_HELD_LIMITS);
    this.#events = new EventLog(db, this.#cipher, options.keepEvents ?? 10_000);
    this.#clock = options.clock ?? Date.now;
    this.#full = (options.durability ?? "full") === "full";
    this.#onListenerError =
      options.onListenerError ??
      ((error) =>
        queueMicrotask(() => {
          throw error;
        }));
    const sql: Record<string, string> = {
      begin: "BEGIN IMMEDIATE",
      commit: "COMMIT",
      rollback: "ROLLBACK",
      savepoint: "SAVEPOINT unit",
      release: "RELEASE unit",
      rollbackTo: "ROLLBACK TO unit",
      synced:
        "INSERT INTO meta (name, value) VALUES ('synced', 1) ON CONFLICT (name) DO UPDATE SET value = value + 1",
      processed: "SELECT 1 AS hit FROM processed WHERE id = ?",
      markProcessed: "INSERT INTO processed (id, at) VALUES (?, ?)",
      deviceKey: "SELECT id, public, private, created_at FROM device_keys WHERE id = ?",
      keyPackage: "SELECT * FROM key_packages WHERE ref = ?",
      keyPackages: "SELECT * FROM key_packages ORDER BY created_at, ref",
      group: "SELECT * FROM groups WHERE id = ?",
      groups: "SELECT id, epoch, meta, updated_at FROM groups ORDER BY id",
      groupSummary: "SELECT id, epoch, meta, updated_at FROM groups WHERE id = ?",
      message: "SELECT * FROM messages WHERE id = ?",
      hasMessage: "SELECT 1 AS hit FROM messages WHERE id = ?",
      messages: `SELECT * FROM (SELECT * FROM messages WHERE conversation = ? AND (at, id) < (?, ?)
        ORDER BY at DESC, id DESC LIMIT ?) ORDER BY at, id`,
      history: "SELECT * FROM message_history WHERE message_id = ? ORDER BY at, id",
      contact: "SELECT * FROM contacts WHERE actor = ?",
      contacts: "SELECT * FROM contacts ORDER BY actor",
      cursor: "SELECT position FROM cursors WHERE name = ?",
      outboxItem: "SELECT * FROM outbox WHERE id = ?",
      outboxDue: `SELECT * FROM outbox WHERE state = 'queued' AND next_attempt_at <= ?
        ORDER BY next_attempt_at, created_at LIMIT ?`,
      outboxByState: "SELECT * FROM outbox WHERE state = ? ORDER BY created_at, id",
      outboxCount: "SELECT count(*) AS n FROM outbox WHERE state = ?",
      setting: "SELECT value FROM settings WHERE name = ?",
      held: `SELECT id, epoch, sender, rank, bytes, held_at FROM held WHERE conversation = ?
        ORDER BY epoch, held_at, id`,
      heldItem: "SELECT * FROM held WHERE id = ?",
      hasHeld: "SELECT 1 AS hit FROM held WHERE id = ?",
      heldSummary: "SELECT count(*) AS count, coalesce(sum(bytes), 0) AS bytes FROM held",
    };
    this.#q = Object.fromEntries(Object.entries(sql).map(([name, text]) => [name, db.prepare(text)]));
  }

  /**
   * Writes one unit of work in one transaction (BEGIN IMMEDIATE ... COMMIT): all of it or nothing.
   * A unit whose `activityId` was processed before writes nothing (`applied: false`).
   * Commit listeners run after the commit. See `ApplyOptions` for units that need not wait for the disk.
   * Inside `batch`, the unit is a savepoint of the batch's transaction: still all or nothing, committed (and
   * told to listeners) with the batch, as durable as the batch.
   */
  apply(unit: Unit, options: ApplyOptions = {}): ApplyResult {
    this.#open();
    const at = unit.at ?? this.#clock();
    const batch = this.#batch;
    const relaxed = this.#full && options.durable === false;
    let result: ApplyResult;
    try {
      if (batch === undefined) this.#synchronous(relaxed);
      const mark = this.#events.mark();
      this.#stmt(batch === undefined ? "begin" : "savepoint").run();
      try {
        result = this.#write(unit, at);
        if (!result.applied) this.#undo(batch);
        else this.#stmt(batch === undefined ? "commit" : "release").run();
      } catch (error) {
        this.#events.rollback(mark);
        if (this.#db.isTransaction) this.#undo(batch);
        throw error;
      }
    } catch (error) {
      throw fromSqlite(error, this.path);
    }
    if (result.applied) {
      const info = { events: result.events, last: this.#events.last };
      if (batch !== undefined) batch.committed.push(info);
      else {
        if (this.#full) this.#unflushed = relaxed;
        this.#notify(info);
      }
    }
    return result;
  }

  /**
   * Runs `fn`, and commits every unit it applies in one transaction when it resolves (one commit, one sync of
   * the disk, for many units), or none of them if it throws. Each unit stays all or nothing on its own: one
   * that fails is rolled back alone and the batch goes on. While a batch is open, `outboxDue` lists nothing,
   * so that nothing a batch queues is posted before it is committed. Batches do not nest.
   */
  async batch<T>(fn: () => Promise<T>, options: ApplyOptions = {}): Promise<T> {
    this.#open();
    if (this.#batch !== undefined) throw new StorageError("invalid_unit", "store batches do not nest");
    const relaxed = this.#full && options.durable === false;
    const mark = this.#events.mark();
    const batch: Batch = { committed: [] };
    try {
      this.#synchronous(relaxed);
      this.#stmt("begin").run();
    } catch (error) {
      throw fromSqlite(error, this.path);
    }
    this.#batch = batch;
    const abandon = () => {
      this.#batch = undefined;
      this.#events.rollback(mark);
      if (!this.#closed && this.#db.isTransaction) this.#stmt("rollback").run();
    };
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      abandon();
      throw error;
    }
    try {
      this.#batch = undefined;
      this.#stmt("commit").run();
    } catch (error) {
      abandon();
      throw fromSqlite(error, this.path);
    }
    if (batch.committed.length > 0) {
      if (this.#full) this.#unflushed = relaxed;
      for (const info of batch.committed) this.#notify(info);
    }
    return value;
  }

  /** A batch is open (see `batch`). */
  get batching(): boolean {
    return this.#batch !== undefined;
  }

  #synchronous(relaxed: boolean): void {
    if (relaxed === this.#relaxed) return;
    this.#db.exec(`PRAGMA synchronous = ${relaxed ? "NORMAL" : "FULL"}`);
    this.#relaxed = relaxed;
  }

  #undo(batch: Batch | undefined): void {
    if (batch === undefined) {
      this.#stmt("rollback").run();
      return;
    }
    this.#stmt("rollbackTo").run();
    this.#stmt("release").run();
  }

  /** Relaxed units were committed that a power loss could still undo (`flush` makes them durable). */
  get unflushed(): boolean {
    return this.#unflushed;
  }

  /**
   * Makes every committed unit durable: syncs the write-ahead log (a passive checkpoint, which syncs the WAL
   * before copying it into the database). Does nothing when no relaxed unit is waiting. Not inside a batch
   * (SQLite cannot checkpoint in an open transaction): flush after it commits.
   */
  flush(): void {
    this.#makeDurable("flush", () => this.#db.exec("PRAGMA wal_checkpoint(PASSIVE)"));
  }

  /**
   * Makes every committed unit durable, like `flush`, with one sync of the write-ahead log and no checkpoint: a
   * durable commit of a counter in `meta` (a commit at `synchronous = FULL` syncs the whole log, and with it
   * every relaxed commit before it). For a caller that needs the disk before it goes on (the daemon's outbox,
   * before a post): one sync serves every relaxed unit committed meanwhile. Does nothing when no relaxed unit
   * is waiting; not inside a batch.
   */
  sync(): void {
    this.#makeDurable("sync", () => {
      this.#synchronous(false);
      this.#stmt("begin").run();
      try {
        this.#stmt("synced").run();
        this.#stmt("commit").run();
      } catch (error) {
        if (this.#db.isTransaction) this.#stmt("rollback").run();
        throw error;
      }
    });
  }

  /** Runs `write` when a relaxed unit waits for the disk (never inside a batch); then none does. */
  #makeDurable(name: "flush" | "sync", write: () => void): void {
    this.#open();
    if (this.#batch !== undefined)
      throw new StorageError("invalid_unit", `a store cannot ${name} inside a batch: ${name} after it`);
    if (!this.#unflushed) return;
    try {
      write();
    } catch (error) {
      throw fromSqlite(error, this.path);
    }
    this.#unflushed = false;
  }

  #write(unit: Unit, at: number): ApplyResult {
    let processedId: Uint8Array | undefined;
    // A receiver asks `isProcessed(id)` and then applies the unit of that id: the answer holds until the next
    // unit, whatever it is (this one), so it is not looked up twice.
    const unprocessed = this.#unprocessed;
    this.#unprocessed = undefined;
    if (unit.activityId !== undefined) {
      processedId = this.#activityHash(unit.activityId);
      if (processedId !== unprocessed && this.#stmt("processed").get(processedId))
        return { applied: false, events: [], heldDropped: [] };
    }
    const heldDropped = this.#writer.write(unit, at);
    const events = this.#events.append(unit.events ?? [], at);
    if (processedId) this.#stmt("markProcessed").run(processedId, at);
    return { applied: true, events, heldDropped };
  }

  /** The hash of the last id `isProcessed` found not processed, until the next unit is written. */
  #unprocessed: Uint8Array | undefined;

  /** The last id hashed: a receiver asks `isProcessed(id)` and then applies the unit of that same id. */
  #lastHash: { readonly id: string; readonly hash: Uint8Array } | undefined;

  /** Activity ids are kept as keyed hashes: enough to dedupe, nothing to read back. */
  #activityHash(activityId: string): Uint8Array {
    if (this.#lastHash?.id === activityId) return this.#lastHash.hash;
    const hash = createHmac("sha256", this.#ids).update(activityId).digest().subarray(0, 16);
    this.#lastHash = { id: activityId, hash };
    return hash;
  }

  #notify(info: CommitInfo): void {
    for (const listener of this.#listeners) {
      try {
        listener(info);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }

  /** Calls `listener` after every committed unit (so a server can push without polling). Returns an unsubscribe. */
  onCommit(listener: CommitListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Events with `seq > after`, oldest first, at most `limit`; `gap` when retention dropped some. */
  since(after: number, limit = 100): EventPage {
    return this.#read(() => this.#events.since(after, Math.max(0, Math.floor(limit))));
  }

  /** The last event seq written (0 when none). */
  get lastSeq(): number {
    return this.#events.last;
  }

  isProcessed(activityId: string): boolean {
    return this.#read(() => {
      const hash = this.#activityHash(activityId);
      const processed = this.#stmt("processed").get(hash) !== undefined;
      this.#unprocessed = processed ? undefined : hash;
      return processed;
    });
  }

  cursor(name: string): string | undefined {
    return this.#read(() => (this.#stmt("cursor").get(name) as { position: string } | undefined)?.position);
  }

  deviceKey(id: string): DeviceKey | undefined {
    return this.#read(() => {
      const row = this.#stmt("deviceKey").get(id) as Row | undefined;
      if (!row) return undefined;
      return {
        id,
        publicKey: row.public as Uint8Array,
        privateKey: this.#cipher.open("device_keys", "private", row, row.private as Uint8Array),
        createdAt: row.created_at as number,
      };
    });
  }

  keyPackage(ref: string): KeyPackageSecret | undefined {
    return this.#read(() => {
      const row = this.#stmt("keyPackage").get(ref) as Row | undefined;
      return row && this.#keyPackage(row);
    });
  }

  keyPackages(): KeyPackageSecret[] {
    return this.#read(() => (this.#stmt("keyPackages").all() as Row[]).map((row) => this.#keyPackage(row)));
  }

  #keyPackage(row: Row): KeyPackageSecret {
    const ref = row.ref as string;
    return {
      ref,
      keyPackage: row.public as Uint8Array,
      privateKey: this.#cipher.open("key_packages", "private", row, row.private as Uint8Array),
      objectId: (row.object_id as string | null) ?? undefined,
      createdAt: row.created_at as number,
      expiresAt: (row.expires_at as number | null) ?? undefined,
      lastResort: row.last_resort === 1,
    };
  }

  group(id: string): GroupRecord | undefined {
    return this.#read(() => {
      const row = this.#stmt("group").get(id) as Row | undefined;
      if (!row) return undefined;
      return {
        ...this.#groupSummary(row),
        state: this.#cipher.open("groups", "state", row, row.state as Uint8Array),
      };
    });
  }

  /** One group without its state. */
  groupSummary(id: string): GroupSummary | undefined {
    return this.#read(() => {
      const row = this.#stmt("groupSummary").get(id) as Row | undefined;
      return row === undefined ? undefined : this.#groupSummary(row);
    });
  }

  /** Every group without its state (which can be megabytes). */
  groups(): GroupSummary[] {
    return this.#read(() => (this.#stmt("groups").all() as Row[]).map((row) => this.#groupSummary(row)));
  }

  #groupSummary(row: Row): GroupSummary {
    const id = row.id as string;
    const meta = this.#cipher.openJson<{ members: string[]; info: JsonValue }>(
      "groups",
      "meta",
      row,
      row.meta as Uint8Array,
    );
    return {
      id,
      epoch: row.epoch as number,
      members: meta.members,
      info: meta.info,
      updatedAt: row.updated_at as number,
    };
  }

  message(id: string): StoredMessage | undefined {
    return this.#read(() => {
      const row = this.#stmt("message").get(id) as Row | undefined;
      return row && this.#message(row);
    });
  }

  /** Whether a message with this id is stored (nothing is decrypted). */
  hasMessage(id: string): boolean {
    return this.#read(() => this.#stmt("hasMessage").get(id) !== undefined);
  }

  /**
   * The newest `limit` messages of a conversation before `before`, oldest first. `before` is best the
   * `{ at, id }` of the oldest message of the previous page: messages are ordered by (at, id), so those
   * sharing a millisecond are neither skipped nor repeated. A bare number (ms) means "sent before then".
   */
  messages(
    conversation: string,
    options: { before?: MessageCursor | number; limit?: number } = {},
  ): StoredMessage[] {
    const { at, id } =
      typeof options.before === "number"
        ? { at: options.before, id: "" } // no id sorts below "", so: every message with at < before
        : (options.before ?? { at: Number.MAX_SAFE_INTEGER, id: "" });
    const limit = options.limit ?? 50;
    return this.#read(() =>
      (this.#stmt("messages").all(conversation, at, id, limit) as Row[]).map((row) => this.#message(row)),
    );
  }

  #message(row: Row): StoredMessage {
    const id = row.id as string;
    const content = this.#cipher.openJson<MessageContent>(
      "messages",
      "content",
      row,
      row.content as Uint8Array,
    );
    return {
      id,
      conversation: row.conversation as string,
      author: content.author,
      at: row.at as number,
      direction: row.direction as MessageDirection,
      state: row.state as MessageState,
      body: content.body,
      editedAt: row.edited_at as number | null,
      deletedAt: row.deleted_at as number | null,
      updatedAt: row.updated_at as number,
    };
  }

  /** Edits, deletions and reactions of a message, oldest first. */
  messageHistory(messageId: string): StoredMessageChange[] {
    return this.#read(() =>
      (this.#stmt("history").all(messageId) as Row[]).map((row) => {
        const id = row.id as string;
        const c = this.#cipher;
        const sealed = (column: string) =>
          row[column] === null
            ? null
            : c.openJson<JsonValue>("message_history", column, row, row[column] as Uint8Array);
        return {
          id,
          messageId,
          kind: row.kind as MessageChangeKind,
          actor: c.openJson<string>("message_history", "actor", row, row.actor as Uint8Array),
          at: row.at as number,
          data: sealed("data"),
          previous: sealed("previous"),
        };
      }),
    );
  }

  contact(actor: string): ContactRecord | undefined {
    return this.#read(() => {
      const row = this.#stmt("contact").get(actor) as Row | undefined;
      return row && this.#contact(row);
    });
  }

  contacts(): ContactRecord[] {
    return this.#read(() => (this.#stmt("contacts").all() as Row[]).map((row) => this.#contact(row)));
  }

  #contact(row: Row): ContactRecord {
    const actor = row.actor as string;
    const data = this.#cipher.openJson<{ name: string | null; devices: ContactDevice[] }>(
      "contacts",
      "data",
      row,
      row.data as Uint8Array,
    );
    return {
      actor,
      name: data.name ?? undefined,
      devices: data.devices,
      verification: row.verification as Verification,
    };
  }

  outboxItem(id: string): OutboxItem | undefined {
    return this.#read(() => {
      const row = this.#stmt("outboxItem").get(id) as Row | undefined;
      return row && this.#outboxItem(row);
    });
  }

  /** Queued items whose next attempt is due at `now`, the most overdue first; none while a batch is open. */
  outboxDue(now: number, limit = 100): OutboxItem[] {
    if (this.#batch !== undefined) return [];
    return this.#read(() =>
      (this.#stmt("outboxDue").all(now, limit) as Row[]).map((row) => this.#outboxItem(row)),
    );
  }

  outbox(state: OutboxState): OutboxItem[] {
    return this.#read(() =>
      (this.#stmt("outboxByState").all(state) as Row[]).map((row) => this.#outboxItem(row)),
    );
  }

  /** How many outbox items are in `state`; their payloads are not read (nor decrypted). */
  outboxCount(state: OutboxState): number {
    return this.#read(() => (this.#stmt("outboxCount").get(state) as { n: number }).n);
  }

  #outboxItem(row: Row): OutboxItem {
    const id = row.id as string;
    return {
      id,
      conversation: row.conversation as string | null,
      state: row.state as OutboxState,
      attempts: row.attempts as number,
      nextAttemptAt: row.next_attempt_at as number,
      lastError: row.last_error as string | null,
      payload: this.#cipher.openJson<JsonValue>("outbox", "payload", row, row.payload as Uint8Array),
      createdAt: row.created_at as number,
      updatedAt: row.updated_at as number,
    };
  }

  setting(name: string): JsonValue | undefined {
    return this.#read(() => {
      const row = this.#stmt("setting").get(name) as { value: Uint8Array } | undefined;
      return row && this.#cipher.openJson<JsonValue>("settings", "value", { name }, row.value);
    });
  }

  /** The messages held for a conversation, by epoch then age, without their activities (`heldActivity`). */
  held(conversation: string): Omit<StoredHeld, "activity">[] {
    return this.#read(() =>
      (this.#stmt("held").all(conversation) as Row[]).map((row) => ({
        id: row.id as string,
        conversation,
        epoch: row.epoch as number,
        sender: row.sender as string,
        rank: row.rank as number,
        bytes: row.bytes as number,
        heldAt: row.held_at as number,
      })),
    );
  }

  /** A held message's activity, decrypted; `undefined` when it is not held (any more). */
  heldActivity(id: string): JsonValue | undefined {
    return this.#read(() => {
      const row = this.#stmt("heldItem").get(id) as Row | undefined;
      return row && this.#cipher.openJson<JsonValue>("held", "activity", row, row.activity as Uint8Array);
    });
  }

  /** Whether a message with this activity id is held (nothing is decrypted). */
  hasHeld(id: string): boolean {
    return this.#read(() => this.#stmt("hasHeld").get(id) !== undefined);
  }

  /** How many messages are held, and their stored bytes. */
  heldSummary(): { count: number; bytes: number } {
    return this.#read(() => {
      const { count, bytes } = this.#stmt("heldSummary").get() as { count: number; bytes: number };
      return { count, bytes };
    });
  }

  /**
   * Re-wraps the data key under a new passphrase / key file (fresh salt); no data is rewritten.
   * The old key stops working at once.
   */
  async changeKey(key: StoreKey, argon2id?: Argon2idParams): Promise<void> {
    this.#open();
    const wrapped = await wrapKey(this.#dataKey, key, KEYRING_CONTEXT, argon2id);
    this.#read(() =>
      this.#db
        .prepare("UPDATE keyring SET kdf = ?, wrapped = ? WHERE id = 1")
        .run(JSON.stringify(wrapped.kdf), wrapped.wrapped),
    );
  }

  /**
   * Writes an encrypted copy of the whole store to `file` (created, mode 0600), protected by its
   * own passphrase; `importStore` turns it back into a store on another machine.
   */
  async exportTo(file: string, passphrase: string, argon2id?: Argon2idParams): Promise<void> {
    this.#open();
    await writeExport(this.#db, this.#dataKey, file, passphrase, argon2id);
  }

  /**
   * Full check: SQLite's `integrity_check`, then every sealed value of every row is authenticated.
   * Throws `corrupt` or `tampered`; returns the number of sealed values checked.
   */
  check(): number {
    return this.#read(() => {
      const rows = this.#db.prepare("PRAGMA integrity_check").all() as { integrity_check: string }[];
      if (rows.length !== 1 || rows[0]?.integrity_check !== "ok") {
        throw new StorageError("corrupt", "integrity_check found damage");
      }
      let checked = 0;
      for (const { table, columns } of SEALED_COLUMNS) {
        for (const row of this.#db.prepare(`SELECT * FROM ${table}`).iterate() as Iterable<Row>) {
          for (const column of columns) {
            const value = row[column];
            if (value === null) continue;
            this.#cipher.open(table, column, row, value as Uint8Array);
            checked++;
          }
        }
      }
      return checked;
    });
  }

  /** Closes the store and releases its lock. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#db.close();
    this.#dataKey.fill(0);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #stmt(name: string): StatementSync {
    return this.#q[name] as StatementSync;
  }

  #open(): void {
    if (this.#closed) throw new StorageError("closed", "the store is closed");
  }

  #read<T>(fn: () => T): T {
    this.#open();
    try {
      return fn();
    } catch (error) {
      throw fromSqlite(error, this.path);
    }
  }
}

type Row = Record<string, unknown>;

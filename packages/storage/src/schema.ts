import type { DatabaseSync } from "node:sqlite";
import { StorageError } from "./errors.js";

/** `PRAGMA application_id` of a Sotto store ("Sott"), so other SQLite files are told apart. */
export const APPLICATION_ID = 0x536f7474;

/**
 * Versioned migrations, run in order on open; `PRAGMA user_version` is the version reached.
 * Columns named in the comments as sealed hold AES-256-GCM values bound to (table, column, row key);
 * everything else is identifiers, times and states, kept clear so they can be indexed.
 */
export const MIGRATIONS: readonly string[] = [
  `
  -- the data key, wrapped under the passphrase / key file; one row
  CREATE TABLE keyring (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    kdf TEXT NOT NULL,
    wrapped BLOB NOT NULL
  ) STRICT;
  CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
  -- sealed: value
  CREATE TABLE settings (name TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT;
  -- sealed: private
  CREATE TABLE device_keys (
    id TEXT PRIMARY KEY,
    public BLOB NOT NULL,
    private BLOB NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;
  -- sealed: private (the KeyPackage's private parts); public is the KeyPackage as published
  CREATE TABLE key_packages (
    ref TEXT PRIMARY KEY,
    public BLOB NOT NULL,
    private BLOB NOT NULL,
    object_id TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    last_resort INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  -- sealed: state (MLS group state, holds private keys), meta ({ members, info })
  CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    epoch INTEGER NOT NULL,
    state BLOB NOT NULL,
    meta BLOB NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;
  -- sealed: content ({ author, body }, body being the decrypted application data, null once deleted)
  CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    conversation TEXT NOT NULL,
    at INTEGER NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    state TEXT NOT NULL CHECK (state IN ('received', 'queued', 'sent', 'failed')),
    content BLOB NOT NULL,
    edited_at INTEGER,
    deleted_at INTEGER,
    updated_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX messages_by_conversation ON messages (conversation, at, id);
  -- edits, deletions and reactions as they came; sealed: actor, data, previous
  CREATE TABLE message_history (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('edit', 'delete', 'reaction', 'unreaction')),
    actor BLOB NOT NULL,
    at INTEGER NOT NULL,
    data BLOB,
    previous BLOB
  ) STRICT;
  CREATE INDEX message_history_by_message ON message_history (message_id, at, id);
  -- sealed: data (name, devices with their fingerprints)
  CREATE TABLE contacts (
    actor TEXT PRIMARY KEY,
    verification TEXT NOT NULL CHECK (verification IN ('unverified', 'verified', 'changed')),
    data BLOB NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;
  -- where reading a collection got to, per source (e.g. "messages", "inbox")
  CREATE TABLE cursors (name TEXT PRIMARY KEY, position TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT;
  -- processed activity ids, as keyed hashes (dedupe without keeping the ids)
  CREATE TABLE processed (id BLOB PRIMARY KEY, at INTEGER NOT NULL) STRICT, WITHOUT ROWID;
  -- sealed: payload
  CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    conversation TEXT,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    payload BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
  -- sealed: data
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    data BLOB NOT NULL,
    at INTEGER NOT NULL
  );
  `,
  `
  -- messages waiting for the Welcome or commit they need, one row each (they were one sealed setting);
  -- sealed: activity. rank: 0 a stranger, 1 a contact, 2 a current member of the conversation (evicted last).
  CREATE TABLE held (
    id TEXT PRIMARY KEY,
    conversation TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    sender TEXT NOT NULL,
    rank INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    held_at INTEGER NOT NULL,
    activity BLOB NOT NULL
  ) STRICT;
  CREATE INDEX held_by_conversation ON held (conversation, epoch, held_at);
  CREATE INDEX held_by_sender ON held (sender, held_at);
  CREATE INDEX held_by_rank ON held (rank, held_at);
  -- from version 2 on, sealed values are bound to their row's clear columns too (see sealed-columns.ts);
  -- the store re-seals the rows of version 1 once it holds the key (meta 'sealed_format' = 2)
  `,
];

/** Brings the schema up to date, one transaction per migration. */
export function migrate(db: DatabaseSync): void {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  const from = row.user_version;
  if (from > MIGRATIONS.length) {
    throw new StorageError(
      "newer_schema",
      `store schema version ${from} is newer than this Sotto knows (${MIGRATIONS.length})`,
    );
  }
  for (let version = from; version < MIGRATIONS.length; version++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(MIGRATIONS[version] as string);
      db.exec(`PRAGMA user_version = ${version + 1}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
}

/**
 * Every sealed column, with its table's row key and the clear columns bound into each sealed value's
 * associated data (`bound`): changing one of them (a message's conversation, time or deleted flag, a contact's
 * verification, an outbox item's state...) makes the row's sealed values fail authentication, so a tampered row
 * is never served. `updated_at` is bookkeeping and is not bound. `Store.check` verifies all of them.
 */
export const SEALED_COLUMNS: readonly SealedTable[] = [
  { table: "settings", key: "name", columns: ["value"], bound: [] },
  { table: "device_keys", key: "id", columns: ["private"], bound: ["public", "created_at"] },
  {
    table: "key_packages",
    key: "ref",
    columns: ["private"],
    bound: ["public", "object_id", "created_at", "expires_at", "last_resort"],
  },
  { table: "groups", key: "id", columns: ["state", "meta"], bound: ["epoch"] },
  {
    table: "messages",
    key: "id",
    columns: ["content"],
    bound: ["conversation", "at", "direction", "state", "edited_at", "deleted_at"],
  },
  {
    table: "message_history",
    key: "id",
    columns: ["actor", "data", "previous"],
    bound: ["message_id", "kind", "at"],
  },
  { table: "contacts", key: "actor", columns: ["data"], bound: ["verification"] },
  {
    table: "outbox",
    key: "id",
    columns: ["payload"],
    bound: ["conversation", "state", "attempts", "next_attempt_at", "last_error", "created_at"],
  },
  { table: "events", key: "seq", columns: ["data"], bound: ["type", "at"] },
  {
    table: "held",
    key: "id",
    columns: ["activity"],
    bound: ["conversation", "epoch", "sender", "rank", "bytes", "held_at"],
  },
];

export interface SealedTable {
  readonly table: string;
  /** The column whose value is the row key. */
  readonly key: string;
  readonly columns: readonly string[];
  readonly bound: readonly string[];
}

/** A row as SQLite returns it, or as a writer is about to store it (same column names). */
export type Row = Readonly<Record<string, unknown>>;

export const SEALED_TABLES: ReadonlyMap<string, SealedTable> = new Map(
  SEALED_COLUMNS.map((t) => [t.table, t]),
);

/** Every sealed column, with the column whose value is its row key (what `Store.check` verifies). */
export const SEALED_COLUMNS: readonly { table: string; key: string; columns: readonly string[] }[] = [
  { table: "settings", key: "name", columns: ["value"] },
  { table: "device_keys", key: "id", columns: ["private"] },
  { table: "key_packages", key: "ref", columns: ["private"] },
  { table: "groups", key: "id", columns: ["state", "meta"] },
  { table: "messages", key: "id", columns: ["content"] },
  { table: "message_history", key: "id", columns: ["actor", "data", "previous"] },
  { table: "contacts", key: "actor", columns: ["data"] },
  { table: "outbox", key: "id", columns: ["payload"] },
  { table: "events", key: "seq", columns: ["data"] },
];
